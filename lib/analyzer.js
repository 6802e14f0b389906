// lib/analyzer.js: the library face of the analysis, for Node and browsers alike: the original
// tool's "Manual Analysis" API (collect_run_data, calculate_metric_statistics, ...) in
// JavaScript. It decides nothing itself: one call to the core's `analyzeBatch` computes
// everything, and each method returns a part of that result as plain objects.
//
//   const analyzer = new BatchAnalyzer('experiments/my-experiment', storage);
//   await analyzer.collectRunData();
//   const metrics = analyzer.calculateMetricStatistics();
//   console.log(`Average cooperation_level: ${metrics.cooperation_level.mean.toFixed(2)}`);
//   console.log('Best variation:', analyzer.compareVariations('cooperation_level')[0]);
//   console.log(`Success rate: ${(analyzer.identifyPatterns().success_rate * 100).toFixed(1)}%`);

/** @import { Storage } from '../pkg/scenario_lab.js' */
/** @import { Analysis, AnalyzeOptions, MetricStats, Patterns, Problem, VariationStats } from './types.js' */

/**
 * What `collectRunData` resolves to: the totals of the folder.
 * @typedef {object} RunDataTotals
 * @property {number} total_runs
 * @property {number} completed_runs
 * @property {number} successful_runs
 * @property {number} variations The number of variations.
 * @property {Problem[]} problems Missing, partial or corrupt files, and what was done.
 */

/**
 * A variation's place in `compareVariations(metric)`.
 * @typedef {object} VariationRank
 * @property {number} variation_id
 * @property {string} description
 * @property {number} mean The variation's mean of the metric.
 * @property {number} n Completed runs with a value.
 * @property {[number, number] | null} ci95 95% CI of that mean.
 */

/**
 * The original guide's "Manual Analysis" API over one batch output folder (ours, or the original
 * Python tool's). `collectRunData()` first; the other methods then return parts of the analysis.
 * @typedef {object} BatchAnalyzer
 * @property {string} dir The folder analysed.
 * @property {Storage} storage Where it is read from (and `saveAnalysisData` writes to).
 * @property {AnalyzeOptions} options
 * @property {Analysis | null} analysis The analysis, once `collectRunData` (or `saveAnalysisData`) ran.
 * @property {() => Promise<RunDataTotals>} collectRunData Reads every run (writes nothing);
 *   resolves to the totals. Call it first.
 * @property {() => Record<string, MetricStats>} calculateMetricStatistics Per metric over
 *   completed runs: count, mean, sd, median, quartiles, 95% CI, by_turn.
 * @property {() => Record<string, VariationStats>} calculateVariationStatistics Per variation,
 *   keyed by its id as in `variation-statistics.json`.
 * @property {(metric: string) => VariationRank[]} compareVariations The variations ranked by
 *   their mean of `metric`, highest first (the tests behind it are in
 *   `identifyPatterns().comparisons[metric]`).
 * @property {() => Patterns} identifyPatterns Success rates, factor effects, interactions,
 *   failure modes, cost efficiency, runs needed.
 * @property {() => string} generateAnalysisReport The Markdown report.
 * @property {() => Promise<string[]>} saveAnalysisData Writes `<dir>/analysis/`; resolves to the
 *   paths written.
 */

/**
 * The BatchAnalyzer class: `new BatchAnalyzer(dir, storage?, options?)`. In Node the storage
 * defaults to the filesystem, confined to `dir` (no symbolic link inside it is followed); in
 * browsers pass one.
 * @typedef {new (dir: string, storage?: Storage, options?: AnalyzeOptions) => BatchAnalyzer} BatchAnalyzerClass
 */

/**
 * Builds the class over the core's `analyzeBatch` (Node and browser entries pass their own).
 * @param {(dir: string, storage: Storage, options?: AnalyzeOptions) => Promise<Analysis>} analyzeBatch
 * @param {(dir: string) => Storage} [defaultStorage] the storage of a folder when the caller
 *   passes none (Node: the filesystem, confined to it)
 * @returns {BatchAnalyzerClass}
 */
export function makeBatchAnalyzer(analyzeBatch, defaultStorage) {
  return class BatchAnalyzer {
    /**
     * @param {string} dir a batch output folder (ours or the original tool's)
     * @param {Storage} [storage] where the folder is (Node: the
     *   filesystem, confined to `dir`; browsers: required, e.g. a memory storage of uploads)
     * @param {AnalyzeOptions} [options]
     */
    constructor(dir, storage, options = {}) {
      this.dir = dir;
      this.storage = storage ?? defaultStorage?.(dir);
      if (!this.storage) throw new TypeError('BatchAnalyzer needs a Storage in this environment');
      this.options = options;
      /** @type {Analysis | null} */
      this.analysis = null;
    }

    /**
     * Reads every run (writing nothing); resolves to the totals. Call it first.
     * @returns {Promise<RunDataTotals>}
     */
    async collectRunData() {
      this.analysis = await analyzeBatch(this.dir, this.storage, { ...this.options, write: false });
      const p = this.analysis.patterns;
      return { total_runs: p.total_runs, completed_runs: p.completed_runs, successful_runs: p.successful_runs, variations: this.analysis.variations.length, problems: this.analysis.problems };
    }

    /** @returns {Analysis} */
    #need() {
      if (!this.analysis) throw new Error('call collectRunData() first');
      return this.analysis;
    }

    /**
     * Per metric over completed runs: count, mean, sd, median, quartiles, 95% CI, by_turn.
     * @returns {Record<string, MetricStats>}
     */
    calculateMetricStatistics() {
      return this.#need().metrics;
    }

    /**
     * Per variation (keyed by id): runs, success rate with CI, statuses, metrics, cost.
     * @returns {Record<string, VariationStats>}
     */
    calculateVariationStatistics() {
      return Object.fromEntries(this.#need().variations.map((v) => [String(v.variation_id), v]));
    }

    /**
     * The variations ranked by their mean of `metric`, best (highest) first; the tests behind
     * the ranking are in `identifyPatterns().comparisons[metric]`.
     * @param {string} metric
     * @returns {VariationRank[]}
     */
    compareVariations(metric) {
      const a = this.#need();
      const cmp = a.patterns.comparisons[metric];
      if (!cmp) return [];
      return cmp.ranking.map(([id, mean]) => {
        const v = a.variations.find((x) => x.variation_id === id);
        const s = v.metrics[metric];
        return { variation_id: id, description: v.description, mean, n: s?.count ?? 0, ci95: s?.ci95 ?? null };
      });
    }

    /**
     * Success rates, factor effects, interactions, failure modes, cost efficiency, runs needed.
     * @returns {Patterns}
     */
    identifyPatterns() {
      return this.#need().patterns;
    }

    /**
     * The Markdown report.
     * @returns {string}
     */
    generateAnalysisReport() {
      return this.#need().report_markdown;
    }

    /**
     * Writes `<dir>/analysis/` (the JSON files, the reports, runs.csv); resolves to their paths.
     * @returns {Promise<string[]>}
     */
    async saveAnalysisData() {
      this.analysis = await analyzeBatch(this.dir, this.storage, { ...this.options, write: true });
      return this.analysis.files;
    }
  };
}
