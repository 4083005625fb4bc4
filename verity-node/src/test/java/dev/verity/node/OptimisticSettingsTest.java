package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The optimistic.* settings: defaults, environment, and refusal of bad values naming the setting. */
class OptimisticSettingsTest {
  @Test
  void defaultsToOneThreadAndNoVerifierRole() {
    OptimisticSettings s = NodeConfig.defaults().optimistic();
    assertEquals(OptimisticSettings.defaults(), s);
    assertEquals(1, s.threads());
    assertFalse(s.verifier());
  }

  @Test
  void readsTheEnvironment() throws Exception {
    NodeConfig c = NodeConfig.load(Optional.empty(), Map.of("VERITY_LEDGER", "embedded",
        "VERITY_OPTIMISTIC_THREADS", "4", "VERITY_OPTIMISTIC_VERIFIER", "true",
        "VERITY_OPTIMISTIC_VERIFIER_STAKE", "5000", "VERITY_OPTIMISTIC_CHALLENGE_BOND", "300"));
    assertEquals(new OptimisticSettings(4, true, 5000, 300), c.optimistic());
    assertEquals(c.optimistic(), c.withPort(0).withLedger(c.ledger()).optimistic(), "other overrides keep them");
  }

  @Test
  void refusesBadValuesNamingTheSetting() {
    assertMessage(Map.of("VERITY_OPTIMISTIC_THREADS", "0"), "optimistic.threads");
    assertMessage(Map.of("VERITY_OPTIMISTIC_THREADS", "99999999999"), "optimistic.threads");
    assertMessage(Map.of("VERITY_OPTIMISTIC_VERIFIER", "yes"), "optimistic.verifier");
    assertMessage(Map.of("VERITY_OPTIMISTIC_VERIFIER", "true"), "needs a ledger");
    assertMessage(Map.of("VERITY_OPTIMISTIC_VERIFIER_STAKE", "-1"), "optimistic.verifier_stake");
    assertMessage(Map.of("VERITY_OPTIMISTIC_CHALLENGE_BOND", "x"), "optimistic.challenge_bond");
  }

  private static void assertMessage(Map<String, String> env, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NodeConfig.load(Optional.empty(), env));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }
}
