package dev.verity.sdk;

import java.io.IOException;

/** A node answered with an error: its HTTP status, the problem type and the node's explanation. */
public final class VerityApiException extends IOException {
  private static final long serialVersionUID = 1L;
  private final int status;
  private final String type;
  private final String requestId;

  public VerityApiException(int status, String type, String detail, String requestId) {
    super("HTTP " + status + " " + type + ": " + detail + (requestId == null ? "" : " (request " + requestId + ")"));
    this.status = status;
    this.type = type;
    this.requestId = requestId;
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
