export const packageName = '@hindsight/web';
