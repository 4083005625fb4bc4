package dev.verity.node.http;

/**
 * An error the API reports to its caller as an RFC 9457 problem document: an HTTP status, a short
 * stable type name (such as "invalid-input"), a title, and a detail that says what was wrong and
 * what to do.
 */
public class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String type;
  private final String title;
  private final String allow;
  private final int retryAfterSeconds;

  public ApiException(int status, String type, String title, String detail) {
    this(status, type, title, detail, null, null, -1);
  }

  public ApiException(int status, String type, String title, String detail, Throwable cause) {
    this(status, type, title, detail, cause, null, -1);
  }

  private ApiException(int status, String type, String title, String detail, Throwable cause, String allow,
      int retryAfterSeconds) {
    super(detail, cause);
    this.status = status;
    this.type = type;
    this.title = title;
    this.allow = allow;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  /**
   * A refusal the caller should repeat later, unchanged (same request id): 429 or 503 with a
   * Retry-After header of {@code retryAfterSeconds}.
   */
  public static ApiException retryLater(int status, String type, String title, String detail, int retryAfterSeconds) {
    if (status != 429 && status != 503 && status != 504) {
      throw new IllegalArgumentException("retry-later answers are 429, 503 or 504, not " + status);
    }
    if (retryAfterSeconds < 0) {
      throw new IllegalArgumentException("Retry-After must not be negative");
    }
    return new ApiException(status, type, title, detail, null, null, retryAfterSeconds);
  }

  /** Seconds the caller should wait before repeating the request (Retry-After); -1 when none is set. */
  public int retryAfterSeconds() {
    return retryAfterSeconds;
  }

  public int status() {
    return status;
  }

  public String type() {
    return type;
  }

  public String title() {
    return title;
  }

  /** For a 405: the methods the resource allows, as the Allow header lists them; else null. */
  public String allow() {
    return allow;
  }

  public static ApiException badRequest(String detail) {
    return new ApiException(400, "invalid-input", "Invalid input", detail);
  }

  public static ApiException notFound(String detail) {
    return new ApiException(404, "not-found", "Not found", detail);
  }

  public static ApiException forbidden(String detail) {
    return new ApiException(403, "forbidden", "Forbidden", detail);
  }

  /**
   * A forwarded request whose forwarding node this node does not accept (its peer signature is
   * bad, replayed or stale, or its signer is no live peer): the forwarder's problem, not the
   * client's, so a gateway tries another worker rather than pass it on.
   *
   * @param status 401 (the signature) or 403 (the signer)
   */
  public static ApiException peerRefused(int status, String detail) {
    return new ApiException(status, "peer-refused", "Forwarding node refused", detail);
  }

  public static ApiException unauthorized(String detail) {
    return new ApiException(401, "unauthorized", "Authentication required", detail);
  }

  public static ApiException conflict(String detail) {
    return new ApiException(409, "conflict", "Conflict", detail);
  }

  public static ApiException methodNotAllowed(java.util.Collection<String> allowed, String detail) {
    return new ApiException(405, "method-not-allowed", "Method not allowed", detail, null, String.join(", ", allowed), -1);
  }

  public static ApiException tooLarge(String detail) {
    return new ApiException(413, "too-large", "Request body too large", detail);
  }
}
