package dev.verity.node;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.node.http.ApiException;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import java.util.Optional;

/**
 * How the node charges for inference. {@link InferenceService} asks {@link #authorize} once a
 * request has passed every other check and just before the model runs, then reports the outcome to
 * the returned {@link Claim}: {@link Claim#completed} with the signed receipt, or {@link
 * Claim#failed} when the run failed. Implementations are thread-safe.
 */
interface Payments {

  /**
   * Decides whether this request may run and who pays for it.
   *
   * @param job the ledger job the client names for this request, if any
   * @param caller the authenticated caller, if the request was signed
   * @return a claim on the job (or {@link Claim#FREE} when the inference costs nothing)
   * @throws ApiException 402 when payment is missing or insufficient, 409 when the job was used
   *     already, 401 when a job is named by an unsigned request
   */
  Claim authorize(ModelManifest manifest, Optional<Address> caller, Optional<Hash> job);

  /** A request that was allowed to run, and the job (if any) that pays for it. */
  interface Claim {
    /** The job the receipt must name, if the inference is paid. */
    Optional<Hash> job();

    /**
     * The inference succeeded and its receipt is signed: the job is to be settled at the price and
     * the receipt committed. Durable before it returns; the ledger work happens in the background.
     */
    void completed(InferenceReceipt receipt);

    /** The inference failed: the job is to be failed, refunding the client's escrow. */
    void failed();

    /** A short note for error messages, e.g. that the escrow is being refunded. */
    default String failureNote() {
      return "";
    }

    /** No payment involved. */
    Claim FREE = new Claim() {
      @Override
      public Optional<Hash> job() {
        return Optional.empty();
      }

      @Override
      public void completed(InferenceReceipt receipt) {}

      @Override
      public void failed() {}
    };
  }

  /** The node runs no ledger: every inference is free, and a request naming a job is refused. */
  Payments NONE = (manifest, caller, job) -> {
    if (job.isPresent()) {
      throw ApiException.badRequest("this node runs no ledger (setting ledger = none), so it takes no 'job'; "
          + "send the request without one");
    }
    return Claim.FREE;
  };
}
