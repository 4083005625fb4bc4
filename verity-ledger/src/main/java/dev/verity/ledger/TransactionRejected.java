package dev.verity.ledger;

/**
 * A transaction the state machine refused. The state is unchanged, no fee is charged and the nonce
 * is not used; the transaction is not part of any block. {@link #reason()} is stable for programs,
 * the message explains the case to people.
 */
public final class TransactionRejected extends Exception {
  private static final long serialVersionUID = 1L;

  /** Why a transaction was refused. */
  public enum Reason {
    /** The signature is not the sender's (checked before the state machine). */
    BAD_SIGNATURE,
    /** The bytes are not a well-formed transaction. */
    MALFORMED,
    /** Signed for another chain. */
    WRONG_CHAIN,
    /** The nonce is not the sender's next one: already used (a replay) or too far ahead. */
    BAD_NONCE,
    /** Fee below the genesis minimum. */
    FEE_TOO_LOW,
    /** The balance does not cover the fee plus what the action spends. */
    INSUFFICIENT_FUNDS,
    /** Less bonded stake than the action needs. */
    INSUFFICIENT_STAKE,
    /** Nothing is unbonding. */
    NOTHING_TO_WITHDRAW,
    /** The unbonding period has not passed. */
    STILL_UNBONDING,
    /**
     * The stake still backs optimistic jobs that are not final or invalid, or open disputes or
     * contests; it can be withdrawn once they end (finalize the jobs, or wait for the rulings).
     */
    STAKE_IN_USE,
    /** A sum would exceed the largest representable amount. */
    AMOUNT_OVERFLOW,
    /** The node, model, job or challenge named does not exist. */
    NOT_FOUND,
    /** Already exists (a model version, a committed receipt). */
    ALREADY_EXISTS,
    /** The sender may not do this (not the job's worker, not the authority, ...). */
    NOT_AUTHORIZED,
    /** The job or challenge is not in a state that allows the action. */
    WRONG_STATE,
    /** The action's parameters do not fit the current state (escrow too small, too many inferences, ...). */
    INVALID_ARGUMENT,
    /**
     * The dispute referee cannot rule now (a model or tensor blob it needs is missing); nothing was
     * decided. Make the blob available to the sequencer and send the move again.
     */
    REFEREE_UNAVAILABLE,
    /** The faucet is disabled or the amount exceeds its limit. */
    FAUCET_DISABLED,
    /** The ledger is overloaded or shutting down; the transaction may be retried later. */
    UNAVAILABLE
  }

  private final Reason reason;

  public TransactionRejected(Reason reason, String message) {
    super(reason + ": " + message);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
