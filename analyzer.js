// analyzer.js: the library face of the analysis, for Node and browsers alike: the original
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

/** Builds the class over the core's `analyzeBatch` (Node and browser entries pass their own). */
export function makeBatchAnalyzer(analyzeBatch, defaultStorage) {
  return class BatchAnalyzer {
    /**
     * @param {string} dir a batch output folder (ours or the original tool's)
     * @param {import('./index.d.ts').Storage} [storage] where the folder is (Node: the
     *   filesystem, confined to `dir`; browsers: required, e.g. a memory storage of uploads)
     * @param {import('./index.d.ts').AnalyzeOptions} [options]
     */
    constructor(dir, storage, options = {}) {
      this.dir = dir;
      this.storage = storage ?? defaultStorage?.(dir);
      if (!this.storage) throw new TypeError('BatchAnalyzer needs a Storage in this environment');
      this.options = options;
      this.analysis = null;
    }

    /** Reads every run (writing nothing); resolves to the totals. Call it first. */
    async collectRunData() {
      this.analysis = await analyzeBatch(this.dir, this.storage, { ...this.options, write: false });
      const p = this.analysis.patterns;
      return { total_runs: p.total_runs, completed_runs: p.completed_runs, successful_runs: p.successful_runs, variations: this.analysis.variations.length, problems: this.analysis.problems };
    }

    #need() {
      if (!this.analysis) throw new Error('call collectRunData() first');
      return this.analysis;
    }

    /** Per metric over completed runs: count, mean, sd, median, quartiles, 95% CI, by_turn. */
    calculateMetricStatistics() {
      return this.#need().metrics;
    }

    /** Per variation (keyed by id): runs, success rate with CI, statuses, metrics, cost. */
    calculateVariationStatistics() {
      return Object.fromEntries(this.#need().variations.map((v) => [String(v.variation_id), v]));
    }

    /**
     * The variations ranked by their mean of `metric`, best (highest) first; the tests behind
     * the ranking are in `identifyPatterns().comparisons[metric]`.
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

    /** Success rates, factor effects, interactions, failure modes, cost efficiency, runs needed. */
    identifyPatterns() {
      return this.#need().patterns;
    }

    /** The Markdown report. */
    generateAnalysisReport() {
      return this.#need().report_markdown;
    }

    /** Writes `<dir>/analysis/` (the JSON files, the reports, runs.csv); resolves to their paths. */
    async saveAnalysisData() {
      this.analysis = await analyzeBatch(this.dir, this.storage, { ...this.options, write: true });
      return this.analysis.files;
    }
  };
}
