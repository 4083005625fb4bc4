package dev.verity.ledger;

import dev.verity.core.Cid;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * The ledger as the rest of Verity sees it: submit signed transactions, read committed state with
 * or without proofs, read blocks, follow new blocks. The embedded implementation is {@link
 * SequencerLedger}; a settlement-chain backend would implement the same contract.
 *
 * <p><b>Contract.</b>
 *
 * <ul>
 *   <li>{@link #submit} returns at once. Its future completes normally only once the transaction
 *       is in a block that is durably stored (it survives a crash of the process or machine right
 *       after), with the block height, the index in the block and what it created. It completes
 *       exceptionally with {@link TransactionRejected} when the signature or the rules refuse the
 *       transaction (nothing changed, no fee), or with reason {@code UNAVAILABLE} when the ledger
 *       is overloaded, closed or failed (then the transaction may or may not have been committed;
 *       check by its nonce).
 *   <li>Transactions from one submitter are ordered as submitted. A client should submit its
 *       transactions in nonce order; one rejected for a gap can be resubmitted.
 *   <li>Reads see only durably committed blocks. {@link #view()} is a consistent snapshot of one
 *       block's header and the state after it; proofs it gives verify against that header.
 *   <li>Subscribers see every committed block exactly once, in height order, on a thread of
 *       their own; a slow subscriber delays only itself.
 *   <li>Thread-safe. {@link #close()} fails pending submissions with {@code UNAVAILABLE}; what was
 *       acknowledged stays committed.
 * </ul>
 */
public interface Ledger extends AutoCloseable {

  /** The configuration this chain started with. */
  GenesisConfig genesis();

  /** Submits a signed transaction; see the contract above. Never throws. */
  CompletableFuture<Committed> submit(SignedTransaction tx);

  /** The latest committed header and the state after it. */
  LedgerView view();

  /** The latest committed header. */
  default BlockHeader latestHeader() {
    return view().header();
  }

  /**
   * A committed block, or empty if {@code height} is beyond the latest.
   *
   * @throws java.io.UncheckedIOException if the block cannot be read from storage
   */
  Optional<Block> block(long height);

  /**
   * Proof that {@code receipt} was committed: its inclusion path under the receipts root of its
   * block's signed header. Empty if no such receipt is committed.
   */
  Optional<ReceiptProof> receiptProof(Cid receipt);

  /**
   * Delivers every block from {@code fromHeight} on, in order, as it is committed (blocks already
   * committed first). Close the subscription to stop.
   */
  Subscription subscribe(long fromHeight, Consumer<Block> listener);

  /** Stops accepting transactions, finishes what is being written, releases the storage. */
  @Override
  void close();

  /** A running subscription. */
  interface Subscription extends AutoCloseable {
    @Override
    void close();
  }
}
