import KeelLearn
import CoreMetrics
import Metrics
import Prometheus
import Synchronization

/// Request and prediction metrics, recorded through swift-metrics into a Prometheus registry that
/// `GET /metrics` renders in the text exposition format.
final class ServerMetrics: Sendable {
    /// swift-metrics has one global backend per process, so the registry is created and bootstrapped once.
    static let shared = ServerMetrics()

    let registry: PrometheusCollectorRegistry
    /// Handlers per (route, status), made once: looking them up through swift-metrics on every request
    /// costs more than counting.
    private let requestHandlers = Mutex<[String: (counter: CoreMetrics.Counter, timer: CoreMetrics.Timer)]>([:])
    private let classCounters = Mutex<[String: CoreMetrics.Counter]>([:])
    private let confidence: Recorder
    private let value: Recorder

    private init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5),
        ]
        factory.defaultValueHistogramBuckets = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1]
        MetricsSystem.bootstrap(factory)
        confidence = Recorder(label: "keel_prediction_confidence", aggregate: true)
        value = Recorder(label: "keel_prediction_value", aggregate: true)
    }

    func request(route: String, status: Int, nanoseconds: Int64) {
        let key = "\(route) \(status)"
        let handlers = requestHandlers.withLock { cache in
            if let found = cache[key] { return found }
            let made = (CoreMetrics.Counter(label: "keel_http_requests_total", dimensions: [("route", route), ("status", String(status))]),
                        CoreMetrics.Timer(label: "keel_http_request_duration_seconds", dimensions: [("route", route)]))
            cache[key] = made
            return made
        }
        handlers.counter.increment()
        handlers.timer.recordNanoseconds(nanoseconds)
    }

    /// Predicted classes are counted per class and the winning probability goes into a histogram; values of a
    /// regression model go into a histogram of their own.
    /// Predictions that rested on a guess, by warning code (`keel_input_warnings_total{code}`).
    func inputWarnings(_ warnings: [[InputWarning]]) {
        var counts: [InputWarning.Code: Int] = [:]
        for row in warnings { for warning in row { counts[warning.code, default: 0] += 1 } }
        for (code, count) in counts {
            Counter(label: "keel_input_warnings_total", dimensions: [("code", code.rawValue)]).increment(by: count)
        }
    }

    func predictions(classCounts: [String: Int], confidences: [Double], values: [Double]) {
        for (label, count) in classCounts {
            let counter = classCounters.withLock { cache in
                if let found = cache[label] { return found }
                let made = CoreMetrics.Counter(label: "keel_predictions_total", dimensions: [("class", label)])
                cache[label] = made
                return made
            }
            counter.increment(by: count)
        }
        for p in confidences { confidence.record(p) }
        for v in values { value.record(v) }
    }

    /// Prediction log records written, and dropped because the queue was full or the store failed.
    func predictionLog(written: Int = 0, dropped: Int = 0) {
        if written > 0 { Counter(label: "keel_prediction_log_written_total").increment(by: written) }
        if dropped > 0 { Counter(label: "keel_prediction_log_dropped_total").increment(by: dropped) }
    }

    /// Requests whose client hung up before the request was read (`keel_http_client_aborts_total`): not
    /// counted among the requests by status, so nobody can raise the 5xx rate by hanging up.
    func clientAbort() {
        Counter(label: "keel_http_client_aborts_total").increment()
    }

    /// Explanations by outcome (`keel_explanations_total{result}`): ok, timeout, cancelled, busy.
    func explanation(_ result: String) {
        Counter(label: "keel_explanations_total", dimensions: [("result", result)]).increment()
    }

    /// Humility rules that fired, by model, rule, trigger and action (`keel_humility_flags_total`).
    func humility(model: String, _ outcomes: [HumilityGuard.Outcome]) {
        var counts: [[String]: Int] = [:]
        for outcome in outcomes {
            for flag in outcome.flags { counts[[flag.rule, flag.trigger.rawValue, flag.action.rawValue], default: 0] += 1 }
        }
        for (key, count) in counts {
            Counter(label: "keel_humility_flags_total", dimensions: [("model", model), ("rule", key[0]), ("trigger", key[1]), ("action", key[2])])
                .increment(by: count)
        }
    }

    /// Review decisions by kind (`keel_review_decisions_total{decision}`).
    func reviewDecision(_ decision: String) {
        Counter(label: "keel_review_decisions_total", dimensions: [("decision", decision)]).increment()
    }

    func reload(succeeded: Bool) {
        Counter(label: "keel_model_reloads_total", dimensions: [("result", succeeded ? "ok" : "error")]).increment()
    }

    func render() -> String {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }
}
