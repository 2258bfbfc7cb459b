export { storyScenario } from './scenario.js';
export type { Scenario } from './scenario.js';
export { applyFix, changePlan, collectLab, measureTraffic, runIncident, sampleLab } from './runner.js';
export type { AppliedFix, LabSampling, IncidentOptions, IncidentResult, ScenarioChange } from './runner.js';
