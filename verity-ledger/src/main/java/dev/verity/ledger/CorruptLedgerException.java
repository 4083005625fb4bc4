package dev.verity.ledger;

import java.io.IOException;
import java.nio.file.Path;

/**
 * The ledger's files are damaged in a way recovery must not paper over: a bad record in the middle
 * of the block log, a missing or repeated block, a block that does not re-execute to its signed
 * state root. The ledger refuses to start. The message names the file and offset; restore the
 * directory from a backup or a replica, or cut the log at that point by hand if losing the later
 * blocks is acceptable.
 */
public final class CorruptLedgerException extends IOException {
  private static final long serialVersionUID = 1L;

  public CorruptLedgerException(String message) {
    super(message);
  }

  public CorruptLedgerException(String message, Throwable cause) {
    super(message, cause);
  }

  static CorruptLedgerException at(Path file, long offset, String what) {
    return new CorruptLedgerException("corrupt ledger file " + file + " at offset " + offset + ": " + what
        + ". The ledger will not start: restore this directory from a backup or replica.");
  }
}
