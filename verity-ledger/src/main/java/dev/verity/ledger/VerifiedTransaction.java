package dev.verity.ledger;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;

/**
 * A signed transaction whose signature has been checked ({@link SignedTransaction#verify()}). The
 * state machine accepts only these, so signatures can be checked in parallel, ahead of the single
 * thread that applies transactions in order.
 */
public final class VerifiedTransaction {
  private final SignedTransaction signed;
  private final Address sender;

  VerifiedTransaction(SignedTransaction signed) {
    this.signed = signed;
    this.sender = signed.tx().senderAddress();
  }

  public SignedTransaction signed() {
    return signed;
  }

  public Transaction tx() {
    return signed.tx();
  }

  public Hash id() {
    return signed.id();
  }

  public Address sender() {
    return sender;
  }

  @Override
  public String toString() {
    return signed.toString();
  }
}
