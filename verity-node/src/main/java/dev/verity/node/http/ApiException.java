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

  public ApiException(int status, String type, String title, String detail) {
    super(detail);
    this.status = status;
    this.type = type;
    this.title = title;
  }

  public ApiException(int status, String type, String title, String detail, Throwable cause) {
    super(detail, cause);
    this.status = status;
    this.type = type;
    this.title = title;
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

  public static ApiException badRequest(String detail) {
    return new ApiException(400, "invalid-input", "Invalid input", detail);
  }

  public static ApiException notFound(String detail) {
    return new ApiException(404, "not-found", "Not found", detail);
  }

  public static ApiException forbidden(String detail) {
    return new ApiException(403, "forbidden", "Forbidden", detail);
  }

  public static ApiException unauthorized(String detail) {
    return new ApiException(401, "unauthorized", "Authentication required", detail);
  }

  public static ApiException conflict(String detail) {
    return new ApiException(409, "conflict", "Conflict", detail);
  }

  public static ApiException tooLarge(String detail) {
    return new ApiException(413, "too-large", "Request body too large", detail);
  }
}
