package dev.verity.ledger;

import dev.verity.core.DecodingException;
import java.util.Locale;

/** What a registered node offers the network. Encoded as its lower-case name. */
public enum NodeRole {
  /** Runs inferences for clients. */
  WORKER,
  /** Re-executes or spot-checks inferences and co-signs settlements. */
  VERIFIER,
  /** Serves model artifacts. */
  HUB,
  /** Routes client requests to workers. */
  GATEWAY,
  /** Orders transactions into blocks; only the genesis sequencer key may claim it. */
  SEQUENCER;

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static NodeRole ofLabel(String label) {
    for (NodeRole r : values()) {
      if (r.label().equals(label)) {
        return r;
      }
    }
    throw new DecodingException(
        "unknown node role '" + label + "'; expected worker, verifier, hub, gateway or sequencer");
  }
}
