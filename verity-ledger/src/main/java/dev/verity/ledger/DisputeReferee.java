package dev.verity.ledger;

import dev.verity.core.Cid;
import dev.verity.core.VerificationException;

/**
 * Rules on the single step a dispute game narrows down to; the ledger's resolve step. The ledger
 * depends on {@code verity-core} only, so the recomputation (the canonical executor, the model and
 * the tensors) is injected: the node's {@code ExecReferee} (module verity-node) is the implementation.
 *
 * <p><b>A pure function of content-addressed data.</b> Every answer must depend only on its
 * arguments and on blobs named by CID in them (the model's manifest and ONNX file, the job's inputs
 * and outputs), each re-hashed against its CID before use. It reads no clock, no randomness and
 * nothing else that differs between machines, so every node replaying the chain with the same blobs
 * reaches the same verdict (the state machine stays deterministic). The sequencer must hold the
 * blobs of every job it accepts commitments for (its hub stores models, the worker's inputs and
 * outputs); when one is missing the referee throws {@link Unavailable} and the transaction is
 * refused (state unchanged) instead of being ruled on, so that a verdict never depends on what one
 * machine happens to hold. Replaying such a block later needs the same blobs.
 *
 * <p>Verdicts are exceptions: returning normally means the worker's claim holds; {@link
 * VerificationException} means it does not (the worker is guilty), with a message naming the check
 * that failed. Implementations must be thread-safe and bounded in work (one operator per call).
 */
public interface DisputeReferee {

  /**
   * The number of steps of a canonical run of the model: the node count of its graph.
   *
   * @param model the job's model (manifest CID, as registered on the ledger)
   * @throws Unavailable if the model cannot be read
   */
  int steps(Cid model) throws Unavailable;

  /**
   * Checks the worker's opening of step {@code step} of its committed trace: the step's leaf is
   * included under {@code trace.root()} in a tree of {@code trace.steps()} leaves, names node
   * {@code step} of the model, every input is the model's initializer, the request's tensor (under
   * {@code trace.inputs()}) or the output of an earlier step opened under the same root, and
   * recomputing the one operator gives the committed output.
   *
   * @throws VerificationException if the opening does not prove the step (worker guilty)
   * @throws Unavailable if a blob the ruling needs is missing
   */
  void verifyStep(Cid model, TraceCommitment trace, int step, byte[] opening)
      throws VerificationException, Unavailable;

  /**
   * Checks the worker's opening of the steps that produce the model's graph outputs: each is
   * included under {@code trace.root()}, names the node producing that output, and its output hash
   * is the hash of the tensor of that name under {@code trace.outputs()}.
   *
   * @throws VerificationException if the outputs do not match the trace (worker guilty)
   * @throws Unavailable if a blob the ruling needs is missing
   */
  void verifyOutputs(Cid model, TraceCommitment trace, byte[] opening)
      throws VerificationException, Unavailable;

  /** The largest opening a referee reads by blob ({@link Action.ProveStepByBlob}): 512 MiB. */
  long MAX_OPENING_BLOB_BYTES = 512L << 20;

  /**
   * The bytes of an opening the worker named by blob CID ({@link Action.ProveStepByBlob}), read
   * from the content this referee holds and re-hashed against the CID under the hub's blob naming
   * rule. The default reads nothing.
   *
   * @throws Unavailable if the blob is absent, does not hash to {@code cid}, or is larger than
   *     {@link #MAX_OPENING_BLOB_BYTES} (the move is then refused, not ruled on)
   */
  default byte[] openingBlob(Cid cid) throws Unavailable {
    throw new Unavailable("this referee reads no openings by blob; send the opening inline");
  }

  /** A referee that cannot rule on anything: for ledgers that take no optimistic jobs. */
  DisputeReferee NONE = new DisputeReferee() {
    @Override
    public int steps(Cid model) throws Unavailable {
      throw new Unavailable("this ledger has no dispute referee; start it with one to settle disputes");
    }

    @Override
    public void verifyStep(Cid model, TraceCommitment trace, int step, byte[] opening) throws Unavailable {
      steps(model);
    }

    @Override
    public void verifyOutputs(Cid model, TraceCommitment trace, byte[] opening) throws Unavailable {
      steps(model);
    }
  };

  /** The referee cannot rule now (a blob is missing or unreadable); nothing was decided. */
  final class Unavailable extends Exception {
    private static final long serialVersionUID = 1L;

    public Unavailable(String message) {
      super(message);
    }

    public Unavailable(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
