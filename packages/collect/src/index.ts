export const packageName = '@hindsight/collect';
