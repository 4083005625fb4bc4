package dev.verity.node.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.node.NodeConfig;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class GatewaySettingsTest {
  @Test
  void readsEveryGatewaySettingFromTheEnvironment() throws Exception {
    NodeConfig c = NodeConfig.load(Optional.empty(), Map.of(
        "VERITY_GATEWAY_DEADLINE_MILLIS", "9000", "VERITY_GATEWAY_ATTEMPT_MILLIS", "700",
        "VERITY_GATEWAY_ATTEMPTS", "5", "VERITY_GATEWAY_MAX_OUTSTANDING", "17", "VERITY_GATEWAY_QUEUE_MILLIS", "0"));
    assertEquals(new GatewaySettings(Duration.ofMillis(9000), Duration.ofMillis(700), 5, 17, Duration.ZERO), c.gateway());
    assertEquals(GatewaySettings.defaults(), NodeConfig.defaults().gateway());
  }

  @Test
  void rejectsSettingsThatCannotWorkNamingTheKey() {
    for (Map<String, String> bad : java.util.List.of(
        Map.of("VERITY_GATEWAY_ATTEMPTS", "0"),
        Map.of("VERITY_GATEWAY_ATTEMPTS", "99"),
        Map.of("VERITY_GATEWAY_MAX_OUTSTANDING", "0"),
        Map.of("VERITY_GATEWAY_DEADLINE_MILLIS", "0"),
        Map.of("VERITY_GATEWAY_QUEUE_MILLIS", "-1"),
        Map.of("VERITY_GATEWAY_ATTEMPT_MILLIS", "soon"))) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> NodeConfig.load(Optional.empty(), bad), bad.toString());
      assertTrue(e.getMessage().contains("gateway."), e.getMessage());
    }
  }
}
