import Foundation
public import Hummingbird

/// `GET /openapi.yaml`: the hand-written OpenAPI 3.1 document of the REST surface (`openapi.yaml` beside this file,
/// shipped as a resource). `OpenAPIDocumentTests` keeps it and the router in step.
public enum OpenAPIDocument {
    /// The document's bytes, read once. A build without its resource bundle serves a 500 naming the missing file
    /// rather than failing at start: the API itself does not depend on its description.
    public static let bytes: [UInt8]? = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"), let data = try? Data(contentsOf: url) else {
            return nil
        }
        return Array(data)
    }()

    static func register<Context: RequestContext>(on router: Router<Context>) {
        router.get("openapi.yaml") { _, _ in
            guard let bytes else {
                throw APIError(
                    status: .internalServerError, code: "openapi_missing",
                    message: "openapi.yaml is missing from the HTTP adapter's resource bundle (patterndesk_HTTP.resources)")
            }
            return Response(
                status: .ok, headers: [.contentType: "application/yaml; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}
