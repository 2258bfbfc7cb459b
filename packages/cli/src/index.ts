export const packageName = '@hindsight/cli';
