/**
 * @hindsight/web: `hindsight serve`, the investigation of a bundle in a browser. A loopback HTTP
 * server with a JSON API over the bundle and its report, and the Vite-built app in dist/app.
 */
export { startServer, defaultAppDir } from './server.js';
export type { ServeOptions, WebServer } from './server.js';
export { BundleView, seriesKey, toRate } from './data.js';
export type {
  Overview,
  SeriesInfo,
  SeriesData,
  ChangeView,
  TimelineItem,
  TemplateInfoView,
  TemplateRates,
  TemplateLine,
} from './model.js';
export type { CallEdgeView, CallGraphView } from './calls-route.js';
