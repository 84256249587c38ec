// swift-tools-version:6.0
// AITrader — one binary (`aitrader`) for market data, features, three neural forecasters, simulation and trading.
// No SwiftPM package dependencies: system C libraries only (OpenBLAS, SQLite, zstd, libyaml; CUDA loaded at run time).
import PackageDescription

let optimizeC: [CSetting] = [.unsafeFlags(["-O3", "-fno-math-errno", "-fno-trapping-math"])]

let package = Package(
    name: "AITrader",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "aitrader", targets: ["aitrader"]),
    ],
    targets: [
        // C backend protocol + CPU (OpenBLAS) backend + backend library loader. CUDA sources are built by nvcc (make cuda).
        .target(
            name: "CKernels",
            path: "CKernels",
            exclude: ["cuda", "tests", "cpu/README.md"],
            sources: ["common", "cpu"],
            publicHeadersPath: "include",
            cSettings: optimizeC + [.headerSearchPath("include")],
            linkerSettings: [.linkedLibrary("openblas"), .linkedLibrary("m"), .linkedLibrary("dl"), .linkedLibrary("pthread")]
        ),
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite"),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd"),
        .systemLibrary(name: "CYAML", path: "Sources/CYAML"),
        .systemLibrary(name: "CMicroHTTPD", path: "Sources/CMicroHTTPD"),
        .systemLibrary(name: "CWebSockets", path: "Sources/CWebSockets"),

        // Shared plumbing: errors, logging, YAML configuration, JSON output.
        .target(name: "Common", dependencies: ["CYAML"], exclude: ["README.md"]),
        // Tensors, devices, layers with forward/backward, optimizers, safetensors.
        .target(name: "Engine", dependencies: ["CKernels", "Common"], exclude: ["README.md"]),
        // Bars, timeframes, the data-source protocol and the CSV source, Parquet + SQLite storage, pipeline, resampling.
        .target(name: "MarketData", dependencies: ["Common", "CSQLite", "CZstd"], exclude: ["README.md"]),
        // Technical indicators, feature sets, feature store, training data loader.
        .target(name: "Features", dependencies: ["MarketData", "Common"], exclude: ["README.md"]),
        // The three horizon models, Beta head, losses, checkpoints.
        .target(name: "Models", dependencies: ["Engine", "Common"], exclude: ["README.md"]),
        // Orders and their state machine, fills, instruments, the portfolio, the strategy protocol, the venue protocol.
        .target(name: "Trading", dependencies: ["MarketData", "Common"], exclude: ["README.md"]),
        // One home per broker (Alpaca, MT5: configuration + market data + execution) and the transport they share
        // (HTTP client on HTTPService's transfer, WebSocket client on libwebsockets, line socket, retry, Retry-After,
        // token bucket); the data configuration that picks a source.
        .target(name: "Venues", dependencies: ["Trading", "MarketData", "HTTPService", "Common", "CWebSockets"], exclude: ["README.md"]),
        // Position sizing from risk profiles, the pre-trade risk engine, circuit breakers, the order throttle.
        .target(name: "Risk", dependencies: ["Trading", "MarketData", "Common"], exclude: ["README.md"]),
        // Execution models, market simulator, the simulated venue, backtester, metrics, reports.
        .target(name: "Simulation", dependencies: ["Trading", "MarketData", "Features", "Common"], exclude: ["README.md"]),
        // The trading robot: journal, execution modes (simulation; paper and live venues plug in), order manager,
        // signals, the robot actor.
        .target(name: "Robot", dependencies: ["Trading", "Risk", "Simulation", "Prediction", "Models", "Features", "MarketData",
                                              "HTTPService", "Common"],
                exclude: ["README.md"]),
        // Training the horizon models on stored bars: config, trainer, checkpoints, resume.
        .target(name: "Training", dependencies: ["Features", "Models", "Engine", "MarketData", "Simulation", "Venues", "Common"], exclude: ["README.md"]),
        // The ensemble on stored bars: checkpoints + feature store + combiner (aitrader predict, the robot, backtests).
        .target(name: "Prediction", dependencies: ["Models", "Features", "MarketData", "Engine", "Common"], exclude: ["README.md"]),
        // An HTTP/1.1 server on libmicrohttpd and Prometheus metrics: shared by `aitrader serve` and the robot's monitor;
        // the HTTP clients' transfer (size cap, redirect vetting) and a blocking client (the robot's inference calls).
        .target(name: "HTTPService", dependencies: ["CMicroHTTPD"], exclude: ["README.md"]),
        // The inference server: Open Inference Protocol (KServe v2) over HTTP (libmicrohttpd), dynamic batching,
        // model repository with reload, Prometheus metrics.
        .target(name: "Serving", dependencies: ["HTTPService", "Prediction", "Models", "Engine", "Common"], exclude: ["README.md"]),
        // `aitrader bench --suite ...` suites, kept apart from the code they measure.
        .target(name: "Benchmarks", dependencies: ["CKernels", "Engine", "Models", "MarketData", "Features", "Simulation",
                                                   "Training", "Prediction", "Trading", "Risk", "Robot", "Serving", "Common"],
                path: "Benchmarks"),
        .executableTarget(
            name: "aitrader",
            dependencies: ["Common", "Engine", "MarketData", "Features", "Models", "Trading", "Venues", "Risk", "Simulation", "Robot",
                           "Training", "Prediction", "Serving", "Benchmarks"],
            exclude: ["README.md"]
        ),

        .testTarget(name: "CommonTests", dependencies: ["Common"]),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "Common"], resources: [.copy("Fixtures")]),
        // Test helpers shared by test targets (the python fake servers' launcher).
        .target(name: "TestSupport", dependencies: ["Common"], path: "Tests/TestSupport"),
        // Small checkpoints of the three models for the tests that need an ensemble (Prediction, Robot).
        .target(name: "EnsembleTestSupport", dependencies: ["Models", "Features", "MarketData", "Engine", "Common"],
                path: "Tests/EnsembleTestSupport"),
        .testTarget(name: "MarketDataTests", dependencies: ["MarketData", "Common", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TradingTests", dependencies: ["Trading"]),
        .testTarget(name: "VenuesTests", dependencies: ["Venues", "HTTPService", "Trading", "MarketData", "Common", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "RobotTests", dependencies: ["EnsembleTestSupport", "Robot", "HTTPService", "Serving", "Risk", "Trading", "Simulation", "Models", "MarketData",
                                                     "Prediction", "Features", "Engine", "Common"]),
        .testTarget(name: "SimulationTests", dependencies: ["Simulation", "MarketData", "Common"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "RiskTests", dependencies: ["Risk", "Trading", "MarketData", "Common"]),
        .testTarget(name: "FeaturesTests", dependencies: ["Features", "MarketData", "Common"], resources: [.copy("Fixtures")]),
        .testTarget(name: "ModelsTests", dependencies: ["Models", "Engine", "Common"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Features", "Models", "Engine", "MarketData", "Venues", "Common",
                                                          "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "HTTPServiceTests", dependencies: ["HTTPService"]),
        .testTarget(name: "ServingTests", dependencies: ["Serving", "Prediction", "HTTPService", "Models", "Engine", "Common"]),
        .testTarget(name: "PredictionTests", dependencies: ["Prediction", "Models", "Features", "MarketData", "Engine", "Common",
                                                            "EnsembleTestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["MarketData", "Features", "Common", "Models", "Robot", "Venues", "TestSupport",
                                                     "EnsembleTestSupport"]),
        // Each module adds its test target here when its first tests land (EngineTests, MarketDataTests, ...).
    ]
)
