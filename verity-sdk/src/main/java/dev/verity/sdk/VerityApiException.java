package dev.verity.sdk;

import java.io.IOException;
import java.time.Duration;
import java.util.Optional;

/**
 * A node answered with an error: its HTTP status, the problem type, the node's explanation, and for
 * a request to repeat later (429, 503, 504 with a Retry-After header) how long to wait.
 */
public final class VerityApiException extends IOException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String type;
  private final String requestId;
  private final Duration retryAfter;

  public VerityApiException(int status, String type, String detail, String requestId) {
    this(status, type, detail, requestId, Optional.empty());
  }

  public VerityApiException(int status, String type, String detail, String requestId, Optional<Duration> retryAfter) {
    super("HTTP " + status + " " + type + ": " + detail + (requestId == null ? "" : " (request " + requestId + ")")
        + retryAfter.map(d -> "; retry after " + d.toSeconds() + " s").orElse(""));
    this.status = status;
    this.type = type;
    this.requestId = requestId;
    this.retryAfter = retryAfter.orElse(null);
  }

  /**
   * How long the node asked the caller to wait before sending the same request again (its
   * Retry-After header), for an answer the caller may repeat: 429, 503 or 504. Empty otherwise.
   */
  public Optional<Duration> retryAfter() {
    return Optional.ofNullable(retryAfter);
  }

  /** Whether sending the same request again later may succeed (429, 503 or 504 with Retry-After). */
  public boolean retryable() {
    return retryAfter != null;
  }

  public int status() {
    return status;
  }

  /** The problem type without its prefix, e.g. "invalid-input", "not-found", "conflict". */
  public String type() {
    return type;
  }

  public String requestId() {
    return requestId;
  }
}
