import Foundation
import Domain
import Logging
public import Hummingbird

/// An error the API reports as `{"error": "<code>", "message": "<sentence>"}` (plus `parameter` for a bad parameter).
/// Domain and port errors are translated into this by the controllers; `APIErrorMiddleware` turns anything else into a
/// bare 500.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var parameter: String?

    public init(status: HTTPResponse.Status, code: String, message: String, parameter: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.parameter = parameter
    }

    public static func badParameter(_ parameter: String, _ message: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_parameter", message: message, parameter: parameter)
    }

    public static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }

    struct Body: Encodable {
        var error: String
        var message: String
        var parameter: String?
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try JSONBody.response(Body(error: code, message: message, parameter: parameter), status: status)
    }
}

/// Turns any error into the API's error shape: ``APIError`` as it is, Hummingbird's own errors with their status,
/// anything else as a 500 that reveals nothing.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as UserDataValidationError {
            return try APIError.validation(error).response(from: request, context: context)
        } catch let error as HTTPError {
            let code = error.status == .notFound ? "not_found" : "http_\(error.status.code)"
            let message = error.body ?? (error.status == .notFound ? "No route for \(request.uri.path)" : error.status.reasonPhrase)
            return try APIError(status: error.status, code: code, message: message).response(from: request, context: context)
        } catch {
            context.logger.error("unhandled error", metadata: ["error.type": "\(type(of: error))"])
            return try APIError(status: .internalServerError, code: "internal_error", message: "Internal server error")
                .response(from: request, context: context)
        }
    }
}
