export const packageName = '@hindsight/import';
