export const packageName = '@hindsight/core';
