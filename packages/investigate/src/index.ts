export const packageName = '@hindsight/investigate';
