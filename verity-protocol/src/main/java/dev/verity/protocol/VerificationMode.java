package dev.verity.protocol;

import dev.verity.core.DecodingException;

/** How an inference result is backed by evidence. */
public enum VerificationMode {
  /** The node's signature over inputs, outputs, model and provenance. Cheap; trusts the node's key. */
  RECEIPT("receipt"),
  /** A trace commitment; a random sample of jobs is re-executed and disputes slash the cheater. */
  OPTIMISTIC("optimistic"),
  /** A succinct zero-knowledge proof of the computation; the input may stay private. */
  ZK("zk"),
  /** A hardware attestation of the enclave that ran the model. */
  TEE("tee");

  private final String wireName;

  VerificationMode(String wireName) {
    this.wireName = wireName;
  }

  public String wireName() {
    return wireName;
  }

  public static VerificationMode fromWireName(String name) {
    for (VerificationMode m : values()) {
      if (m.wireName.equals(name)) {
        return m;
      }
    }
    throw new DecodingException("unknown verification mode '" + name + "'; expected receipt, optimistic, zk or tee");
  }
}
