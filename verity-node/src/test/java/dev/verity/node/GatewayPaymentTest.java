package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import dev.verity.core.VerificationException;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.NodeRole;
import dev.verity.ledger.StateRecord;
import dev.verity.node.GatewayHarness.SilentWorker;
import dev.verity.node.net.Peer;
import dev.verity.node.net.PeerDirectory;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.VerificationMode;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.VerityClient;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Paid inference through a gateway: the sequencer node is the gateway, two workers follow its
 * ledger remotely (all in this JVM over HTTP). A client pays with a job for any worker, receives the
 * worker's receipt and is charged once, also when the first worker it was sent to died before
 * journalling the job, or ran and journalled it but its answer was lost.
 */
class GatewayPaymentTest {
  @TempDir static Path dir;
  static PaidNetwork net;

  @BeforeAll
  static void start() throws Exception {
    net = PaidNetwork.start(dir, 2, GatewayHarness.FAST);
  }

  @AfterAll
  static void stop() throws Exception {
    if (net != null) {
      net.close();
    }
  }

  static long balance(LedgerClient l, Address a) throws Exception {
    return l.account(a, true).account().balance();
  }

  static StateRecord.Job awaitClosed(LedgerClient l, Hash job) throws Exception {
    long end = System.nanoTime() + PaidNetwork.DEADLINE.toNanos();
    while (true) {
      StateRecord.Job j = l.job(job).job();
      if (j.status() != StateRecord.Job.Status.OPEN && j.receipts() == (j.status() == StateRecord.Job.Status.SETTLED ? 1 : 0)) {
        return j;
      }
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("job " + job + " still " + j.status() + " with " + j.receipts() + " receipts");
      }
      Thread.sleep(20); // polling interval of a bounded wait
    }
  }

  /** A second gateway (no ledger of its own) whose directory is the live workers, some rewritten. */
  static VerityNode gatewayWith(String name, java.util.function.UnaryOperator<Peer> rewrite,
      dev.verity.node.gateway.GatewaySettings settings) throws Exception {
    PeerDirectory d = () -> net.sequencer.peers().live().stream().map(rewrite).toList();
    return GatewayHarness.gateway(dir.resolve(name), d, settings);
  }

  static Peer at(Peer p, URI endpoint) {
    // the highest stake, so the gateway tries this worker first
    return new Peer(p.address(), endpoint, p.roles(), p.models(), 1_000_000_000L, p.capacity());
  }

  @Test
  void paidRequestThroughTheGatewayIsChargedOnceAndTheWorkersReceiptIsAccepted() throws Exception {
    try (VerityClient c = net.client()) {
      LedgerClient l = c.ledger();
      long before = balance(l, net.client.address());
      Hash job = l.openJob(net.manifest.cid(), Optional.empty(), PaidNetwork.PRICE);
      InferenceResult r = c.infer(ModelRef.ofManifest(net.manifest.cid()), NodeHarness.sampleInputs(net.model, 0),
          VerificationMode.RECEIPT, UUID.randomUUID().toString(), Optional.of(job));
      Address signer = r.receipt().node().address();
      assertTrue(signer.equals(net.workerAddress(0)) || signer.equals(net.workerAddress(1)), "a worker signed it");
      StateRecord.Job j = awaitClosed(l, job);
      assertEquals(StateRecord.Job.Status.SETTLED, j.status());
      assertEquals(signer, j.worker().orElseThrow(), "the worker whose receipt the client holds was paid");
      assertEquals(PaidNetwork.PRICE, j.charged());
      assertEquals(before - PaidNetwork.PRICE, balance(l, net.client.address()));
      l.awaitOnLedger(r.receipt(), PaidNetwork.DEADLINE, s -> { }); // committed, provably
    }
  }

  @Test
  void receiptsOfKeysThatAreNoLiveRegisteredWorkerAreRefused() throws Exception {
    try (VerityClient c = net.client();
        VerityClient pinned = VerityClient.builder(net.sequencer.uri()).signer(net.client)
            .sequencer(net.sequencerKey.publicKey()).build()) {
      Hash job = c.ledger().openJob(net.manifest.cid(), Optional.empty(), PaidNetwork.PRICE);
      InferenceResult r = c.infer(ModelRef.ofManifest(net.manifest.cid()), NodeHarness.sampleInputs(net.model, 1),
          VerificationMode.RECEIPT, UUID.randomUUID().toString(), Optional.of(job));
      // without accepting registered workers, the gateway's own key is the only one trusted
      VerificationException e = assertThrows(VerificationException.class, () -> pinned.verify(r.receipt(), r.outputs()));
      assertTrue(e.getMessage().contains("untrusted"), e.getMessage());
      // a receipt over the same outputs signed by an unregistered key
      InferenceReceipt real = r.receipt();
      InferenceReceipt forged = InferenceReceipt.sign(Signer.generate(), real.requestId(), net.manifest, real.inputs(),
          real.outputs(), real.mode(), real.evidence(), real.provenance(), real.startedAtMillis(),
          real.finishedAtMillis(), real.job());
      VerificationException f = assertThrows(VerificationException.class, () -> c.verify(forged, r.outputs()));
      assertTrue(f.getMessage().contains("not registered"), f.getMessage());
      // the sequencer is registered, but not as a worker for the model (a client not pinned to its key)
      InferenceReceipt bySequencer = InferenceReceipt.sign(net.sequencerKey, real.requestId(), net.manifest,
          real.inputs(), real.outputs(), real.mode(), real.evidence(), real.provenance(), real.startedAtMillis(),
          real.finishedAtMillis(), real.job());
      try (VerityClient other = VerityClient.builder(net.sequencer.uri()).trustNodes(Set.of(Signer.generate().publicKey()))
          .acceptRegisteredWorkers(Duration.ofSeconds(5)).sequencer(net.sequencerKey.publicKey()).build()) {
        other.verify(real, r.outputs()); // the worker's own receipt passes
        VerificationException g = assertThrows(VerificationException.class, () -> other.verify(bySequencer, r.outputs()));
        assertTrue(g.getMessage().contains("not registered on the ledger as a worker"), g.getMessage());
      }
    }
  }

  @Test
  void aJobLeftOpenByAWorkerThatDiedBeforeJournallingIsPaidOnceToTheNextWorker() throws Exception {
    Address dead = net.workerAddress(0);
    try (SilentWorker silent = new SilentWorker();
        VerityNode gateway = gatewayWith("g-dead", p -> p.address().equals(dead) ? at(p, silent.uri()) : p,
            GatewayHarness.FAST.withAttemptTimeout(Duration.ofSeconds(2)));
        VerityClient c = net.client();
        VerityClient viaGateway = VerityClient.builder(gateway.uri()).signer(net.client)
            .trustNodes(Set.of(net.workers.get(1).publicKey())).build()) {
      LedgerClient l = c.ledger();
      long before = balance(l, net.client.address());
      Hash job = l.openJob(net.manifest.cid(), Optional.empty(), PaidNetwork.PRICE);
      InferenceResult r = viaGateway.infer(ModelRef.ofManifest(net.manifest.cid()), NodeHarness.sampleInputs(net.model, 0),
          VerificationMode.RECEIPT, "dead-first", Optional.of(job));
      assertEquals(1, silent.received.get(), "the first attempt went to the worker that never answered");
      assertEquals(net.workerAddress(1), r.receipt().node().address());
      assertEquals("dead-first", r.receipt().requestId());
      StateRecord.Job j = awaitClosed(l, job);
      assertEquals(StateRecord.Job.Status.SETTLED, j.status());
      assertEquals(net.workerAddress(1), j.worker().orElseThrow());
      assertEquals(before - PaidNetwork.PRICE, balance(l, net.client.address()), "charged once");
    }
  }

  @Test
  void aJobJournalledByAWorkerWhoseAnswerWasLostIsNotChargedAgain() throws Exception {
    Address lost = net.workerAddress(0);
    try (VerityClient c = net.client(); MaliciousProxy dropping = new MaliciousProxy(net.workers.get(0).uri())) {
      LedgerClient l = c.ledger();
      long before = balance(l, net.client.address());
      Hash job = l.openJob(net.manifest.cid(), Optional.empty(), PaidNetwork.PRICE);
      // worker 0 runs and journals the job, and settles it; then its answer is lost on the way back
      dropping.response = (method, path, body) -> {
        if (path.endsWith("/infer")) {
          awaitClosed(l, job);
          throw new java.io.IOException("connection lost after the worker answered");
        }
        return body;
      };
      try (VerityNode gateway = gatewayWith("g-lost", p -> p.address().equals(lost) ? at(p, dropping.uri()) : p,
          GatewayHarness.FAST.withAttemptTimeout(Duration.ofSeconds(40)).withDeadline(Duration.ofSeconds(60)));
          VerityClient viaGateway = VerityClient.builder(gateway.uri()).signer(net.client)
              .trustNodes(Set.of(net.workers.get(1).publicKey())).build()) {
        VerityApiException e = assertThrows(VerityApiException.class, () -> viaGateway.infer(
            ModelRef.ofManifest(net.manifest.cid()), NodeHarness.sampleInputs(net.model, 1), VerificationMode.RECEIPT,
            "lost-answer", Optional.of(job)));
        assertEquals(409, e.status(), e.getMessage());
        assertEquals("job-used", e.type());
        assertTrue(e.getMessage().contains(lost.toString()), "names the worker of the earlier attempt: " + e.getMessage());
      }
      StateRecord.Job j = l.job(job).job();
      assertEquals(StateRecord.Job.Status.SETTLED, j.status());
      assertEquals(lost, j.worker().orElseThrow());
      assertEquals(1, j.receipts(), "exactly one receipt committed for the job");
      assertEquals(before - PaidNetwork.PRICE, balance(l, net.client.address()), "charged once");
    }
  }
}
