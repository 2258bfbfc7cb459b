export const packageName = '@hindsight/drain';
