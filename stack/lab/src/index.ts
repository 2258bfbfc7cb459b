export const packageName = '@hindsight/lab';
