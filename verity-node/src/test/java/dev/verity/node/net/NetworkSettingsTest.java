package dev.verity.node.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.ledger.NodeRole;
import dev.verity.ledger.TransactionRejected;
import dev.verity.node.NodeConfig;
import java.net.URI;
import java.time.Duration;
import java.util.EnumSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;

/** The network settings (roles, endpoint, capacity, stake, heartbeats) and how a rejection's reason is read. */
class NetworkSettingsTest {

  @Test
  void readsEveryNetworkSettingFromTheEnvironment() throws Exception {
    NodeConfig c = NodeConfig.load(Optional.empty(), Map.of("VERITY_LEDGER", "remote",
        "VERITY_LEDGER_URL", "http://10.0.0.1:8420", "VERITY_ROLES", " worker , verifier",
        "VERITY_ENDPOINT", "http://worker1.example.net:8420", "VERITY_CAPACITY", "8", "VERITY_STAKE", "5000",
        "VERITY_HEARTBEAT_MILLIS", "1000", "VERITY_LIVENESS_MILLIS", "4000"));
    NetworkSettings n = c.network();
    assertEquals(Set.of(NodeRole.WORKER, NodeRole.VERIFIER), c.roles());
    assertEquals(Optional.of(URI.create("http://worker1.example.net:8420")), n.endpoint());
    assertEquals(8, n.capacity());
    assertEquals(5000, n.stake());
    assertEquals(Duration.ofSeconds(1), n.heartbeat());
    assertEquals(Duration.ofSeconds(4), n.liveness());
    assertEquals(Optional.of(URI.create("http://10.0.0.1:8420")), c.ledger().url());
  }

  @Test
  void defaultRolesDependOnTheLedgerMode() throws Exception {
    NetworkSettings d = NetworkSettings.defaults();
    assertEquals(EnumSet.allOf(NodeRole.class), EnumSet.copyOf(d.rolesFor(true, false)));
    assertEquals(EnumSet.complementOf(EnumSet.of(NodeRole.SEQUENCER)), EnumSet.copyOf(d.rolesFor(false, true)));
    assertEquals("worker,verifier,hub,gateway,sequencer", NetworkSettings.labels(d.rolesFor(true, false)));
  }

  @Test
  void refusesRolesThatDoNotFitTheLedgerMode() {
    assertMessage(Map.of("VERITY_LEDGER", "embedded", "VERITY_ROLES", "worker"), "add sequencer");
    assertMessage(Map.of("VERITY_LEDGER", "remote", "VERITY_LEDGER_URL", "http://h:1", "VERITY_ROLES", "sequencer"),
        "only the node with ledger = embedded");
    assertMessage(Map.of("VERITY_ROLES", "worker,router"), "unknown node role 'router'");
  }

  @Test
  void refusesBadValuesNamingTheSetting() {
    assertMessage(Map.of("VERITY_HEARTBEAT_MILLIS", "5000", "VERITY_LIVENESS_MILLIS", "1000"), "liveness_millis");
    assertMessage(Map.of("VERITY_LIVENESS_MILLIS", "0"), "liveness_millis");
    assertMessage(Map.of("VERITY_HEARTBEAT_MILLIS", "-1"), "heartbeat_millis");
    assertMessage(Map.of("VERITY_CAPACITY", "-2"), "capacity");
    assertMessage(Map.of("VERITY_STAKE", "-1"), "stake");
    assertMessage(Map.of("VERITY_ENDPOINT", "ftp://x"), "endpoint");
    assertMessage(Map.of("VERITY_ENDPOINT", "http://bad host"), "endpoint");
    assertMessage(Map.of("VERITY_LEDGER", "remote", "VERITY_LEDGER_URL", "not a url"), "ledger.url");
    assertMessage(Map.of("VERITY_LEDGER", "embedded", "VERITY_LEDGER_URL", "http://h:1"), "ledger.url");
    assertMessage(Map.of("VERITY_LEDGER", "remote"), "ledger.url");
  }

  private static void assertMessage(Map<String, String> env, String expected) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NodeConfig.load(Optional.empty(), env));
    assertTrue(e.getMessage().contains(expected), e.getMessage());
  }

  @Test
  void readsTheReasonOfARejectionAndTreatsUnknownOnesAsFinal() {
    assertEquals(TransactionRejected.Reason.BAD_NONCE, RemoteLedger.reasonOf("BAD_NONCE: nonce 5 is ahead"));
    assertEquals(TransactionRejected.Reason.INSUFFICIENT_FUNDS,
        RemoteLedger.reasonOf(new TransactionRejected(TransactionRejected.Reason.INSUFFICIENT_FUNDS, "x").getMessage()));
    assertEquals(TransactionRejected.Reason.INVALID_ARGUMENT, RemoteLedger.reasonOf("SOMETHING_NEW: x"));
    assertEquals(TransactionRejected.Reason.INVALID_ARGUMENT, RemoteLedger.reasonOf(""));
  }

  @Property(tries = 300)
  void everyDetailTextGivesAReason(@ForAll String detail) {
    TransactionRejected.Reason r = RemoteLedger.reasonOf(detail);
    assertTrue(r != null);
  }

  @Property(tries = 100)
  void everyReasonSurvivesTheTrip(@ForAll TransactionRejected.Reason reason, @ForAll String message) {
    assertEquals(reason, RemoteLedger.reasonOf(new TransactionRejected(reason, message).getMessage()));
  }
}
