export const packageName = '@hindsight/shop';
