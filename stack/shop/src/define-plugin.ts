import type { FastifyPluginAsync } from 'fastify';

/**
 * Names a plugin and declares the plugins it needs, as fastify-plugin does (same symbols), so that
 * a missing dependency fails `ready()` at boot with FST_ERR_PLUGIN_DEPENDENCY_NOT_REGISTERED instead of
 * failing at the first request. `encapsulate: false` (the default) shares its decorators and hooks
 * with the parent, as a provider plugin must.
 */
export function definePlugin<Options extends Record<string, unknown> = Record<never, never>>(
  name: string,
  dependencies: string[],
  fn: FastifyPluginAsync<Options>,
  opts: { encapsulate?: boolean } = {},
): FastifyPluginAsync<Options> {
  const plugin = fn as FastifyPluginAsync<Options> & Record<symbol, unknown>;
  plugin[Symbol.for('skip-override')] = !(opts.encapsulate ?? false);
  plugin[Symbol.for('fastify.display-name')] = name;
  plugin[Symbol.for('plugin-meta')] = { name, dependencies, fastify: '5.x' };
  return plugin;
}
