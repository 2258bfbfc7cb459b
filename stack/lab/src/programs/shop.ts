// The shop image -> `node stack/shop/dist/main.js`.
import { rewriteArgs, type Program } from './container.js';

/** The shop image (`shop`, or any `*-shop`). */
export const shop: Program = {
  matches: (image) => image === 'shop' || image.endsWith('-shop'),
  process(ctx, c, env, cwd) {
    return {
      command: process.execPath,
      args: [ctx.shopEntry, ...rewriteArgs(ctx, c.args ?? [])],
      env,
      cwd,
      stopSignal: 'SIGTERM',
    };
  },
};
