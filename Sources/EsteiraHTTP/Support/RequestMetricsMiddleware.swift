import EsteiraTelemetry
import Hummingbird
import Metrics

/// Times every answer into `esteira_http_request_duration_seconds{route, status}`. The route is
/// the pattern the router matched (`/v1/batches/{id}`), never the path: a path names ids, and
/// each would be a series of its own. A request no route matched counts as `unmatched`.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let status: Int
        do {
            let response = try await next(request, context)
            status = Int(response.status.code)
            record(context, status: status, since: started)
            return response
        } catch let error as any HTTPResponseError {
            record(context, status: Int(error.status.code), since: started)
            throw error
        } catch {
            record(context, status: 500, since: started)
            throw error
        }
    }

    func record(_ context: Context, status: Int, since started: ContinuousClock.Instant) {
        let route = context.endpointPath ?? "unmatched"
        Timer(label: MetricName.httpRequestDuration, dimensions: [("route", route), ("status", String(status))])
            .recordNanoseconds(Int64((ContinuousClock.now - started) / .nanoseconds(1)))
    }
}
