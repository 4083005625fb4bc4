package dev.verity.node.replica;

import java.io.IOException;

/** A model or manifest this node does not have could not be fetched from any live peer. */
public final class ReplicationException extends IOException {
  private static final long serialVersionUID = 1L;

  public ReplicationException(String message) {
    super(message);
  }

  public ReplicationException(String message, Throwable cause) {
    super(message, cause);
  }
}
