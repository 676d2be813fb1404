/**
 * The programmatic API behind `sim`: functions that take options and return data, and never print
 * (progress and notices go through the hooks a caller passes). The CLI parses flags, calls these
 * and prints; scripts and benchmarks call them the same way.
 */
export { calibrateOffline, type CalibrateCommandOptions, type CalibrateHooks, type CalibrateProgress } from './calibrate.js';
export { resolveConfig, type Notice, type RunOptions } from './config.js';
export { copyStore, type CopyOptions, type CopyResult } from './copy.js';
export { DEFAULT_OUT } from './defaults.js';
export { DEFAULT_TAKEOVER_SECONDS, executeJob, isPermanent, queueStatus, runWorker, submitConfig, submitRun, type RunJobsStatus, type StreamStatus, type SubmitOptions, type WorkerEvent, type WorkerHooks, type WorkerOptions } from './distributed.js';
export { exportCsv, exportEvents, projectRun, type ExportCsvOptions, type ExportEventsOptions } from './export.js';
export { estimateRun, type RunEstimate } from './estimate.js';
export { replayRun, type ExactReplay, type ReplayOptions, type ReplayResult } from './replay.js';
export { planStudy, type CheckResult, type PlanHooks, type PlanOptions, type PlanResult } from './plan.js';
export { writeReport, type ReportOptions, type ReportResult } from './report.js';
export { resumeRun, type ResumeOptions, type ResumeResult } from './resume.js';
export { OFFLINE_NOTICE, recordRun, startRun, type Population, type RecordRunOptions, type ProgressEvent, type RunHooks, type RunResult, type RunStart } from './run.js';
export { listRuns, type ChainStatus, type RunListing } from './runs.js';
export { listSweeps, parseSeeds, submitSweep, sweepConfigs, writeSweepReport, type SweepOptions, type SweepRun } from './sweep.js';
export { restOfRunCost, type SpendAsk, type SpendHooks } from './spend.js';
export { storeName, type StoreFlags } from './store.js';
export { userHistory, type HistoryEntry, type UserHistory, type UserHistoryOptions } from './user-history.js';
export { generateUsers, usersStats } from './users.js';
