import type { ShopConfig } from '../config.js';
import { definePlugin } from '../define-plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The validated configuration the app was built with. */
    config: ShopConfig;
  }
}

/** Decorates `app.config`; every other plugin depends on it. */
export const configPlugin = definePlugin<{ config: ShopConfig }>('shop-config', [], async (app, opts) => {
  app.decorate('config', opts.config);
});
