struct IndexBenchmark { init(reader: Any) throws {}; func run() throws {} }
