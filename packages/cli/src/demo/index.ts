export { storyScenario } from './scenario.js';
export type { Scenario } from './scenario.js';
export { applyFix, changePlan, collectLab, measureTraffic, runIncident, seededRandom } from './runner.js';
export type { AppliedFix, IncidentOptions, IncidentResult, ScenarioChange } from './runner.js';
