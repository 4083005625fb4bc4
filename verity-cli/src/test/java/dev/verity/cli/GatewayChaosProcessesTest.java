package dev.verity.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Hash;
import dev.verity.core.crypto.Address;
import dev.verity.core.crypto.Signer;
import dev.verity.ledger.StateRecord;
import dev.verity.models.BuiltinModels;
import dev.verity.models.ExampleModel;
import dev.verity.node.VerityNode;
import dev.verity.protocol.InferenceReceipt;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.VerificationMode;
import dev.verity.protocol.tensor.NamedTensors;
import dev.verity.protocol.tensor.Tensor;
import dev.verity.sdk.InferenceResult;
import dev.verity.sdk.LedgerClient;
import dev.verity.sdk.ModelRef;
import dev.verity.sdk.ProgressListener;
import dev.verity.sdk.Publication;
import dev.verity.sdk.VerityApiException;
import dev.verity.sdk.VerityClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Chaos with real node processes: node-0 sequences the ledger and is the gateway, node-1 is the hub
 * the model is first published to (and a worker), nodes 2 and 3 are workers. Under steady paid load
 * through the gateway, node-2 is killed with SIGKILL, then the hub node-1, then both are started
 * again on their data directories. Every request completes with a receipt the client verified (a
 * live registered worker's) or fails with an error it can retry (or 409 job-used: paid once by an
 * earlier attempt); no job is charged twice; balances move by exactly what the jobs charged.
 * Bounded by request counts.
 */
class GatewayChaosProcessesTest {
  static final Duration DEADLINE = Duration.ofSeconds(60);

  @TempDir Path dir;

  record Outcome(Hash job, Optional<InferenceReceipt> receipt, Optional<VerityApiException> error) {}

  @Test
  @Timeout(value = 240, unit = TimeUnit.SECONDS)
  void killedWorkerAndHubUnderPaidLoadChargeNothingTwice() throws Exception {
    List<Signer> keys = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      keys.add(VerityNode.loadOrCreateKey(dir.resolve("node-" + i)));
    }
    Signer owner = Signer.generate();
    Signer client = Signer.generate();
    Signer treasury = Signer.generate();
    Path genesis = NetworkDemo.genesis(dir, keys, owner, client, treasury);
    ExampleModel model = BuiltinModels.all().get(0);
    Path file = Files.write(dir.resolve(model.name() + ".onnx"), model.onnx());

    try (LocalNetwork net = new LocalNetwork(LocalNetwork.QUICK_START_JVM)) {
      Map<String, String> seqSettings = NetworkDemo.sequencerSettings(genesis, 0);
      seqSettings.put("roles", "sequencer,gateway");
      seqSettings.put("gateway.attempt_millis", "5000");
      LocalNetwork.NodeProcess seq = net.launch("node-0", dir.resolve("node-0"), seqSettings);
      net.awaitReady(seq);
      List<LocalNetwork.NodeProcess> nodes = new ArrayList<>(List.of(seq));
      for (int i = 1; i < 4; i++) {
        nodes.add(net.launch("node-" + i, dir.resolve("node-" + i), settings(genesis, seq, i)));
      }
      for (int i = 1; i < 4; i++) {
        net.awaitReady(nodes.get(i));
      }
      ModelManifest manifest;
      try (VerityClient hub = VerityClient.builder(nodes.get(1).uri()).signer(owner).build()) {
        manifest = hub.publish(file, Publication.of(model.name(), "1.0.0").withPrice(UpCommand.ROYALTY),
            ProgressListener.NONE);
        hub.ledger().registerModel(manifest.cid(), UpCommand.ROYALTY);
      }
      for (int i = 2; i < 4; i++) {
        try (VerityClient copy = VerityClient.builder(nodes.get(i).uri()).signer(owner).build()) {
          copy.uploadBlob(file, ProgressListener.NONE);
          copy.publishManifest(manifest);
        }
      }
      Set<Address> workers = Set.of(keys.get(1).address(), keys.get(2).address(), keys.get(3).address());
      NetworkDemo.awaitLiveWorkers(seq.uri(), workers, List.of(manifest));

      Map<String, Address> parties = new LinkedHashMap<>();
      parties.put("client", client.address());
      parties.put("owner", owner.address());
      parties.put("treasury", treasury.address());
      for (int i = 0; i < 4; i++) {
        parties.put("node-" + i, keys.get(i).address());
      }
      try (VerityClient c = VerityClient.builder(seq.uri()).signer(client).sequencer(seq.key().publicKey())
          .acceptRegisteredWorkers(NetworkDemo.LIVENESS.multipliedBy(2)).build()) {
        LedgerClient l = c.ledger();
        Map<String, Long> before = balances(l, parties);
        long price = UpCommand.ROYALTY + UpCommand.OPERATOR_FEE;
        List<Outcome> outcomes = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger completed = new AtomicInteger();
        AtomicBoolean stop = new AtomicBoolean();
        List<Future<?>> clients = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
          for (int t = 0; t < 3; t++) {
            int thread = t;
            clients.add(pool.submit(() -> {
              for (int i = 0; !stop.get(); i++) {
                Hash job = l.openJob(manifest.cid(), Optional.empty(), price);
                try {
                  InferenceResult r = c.infer(ModelRef.ofManifest(manifest.cid()), inputs(model, thread + i),
                      VerificationMode.RECEIPT, UUID.randomUUID().toString(), Optional.of(job));
                  outcomes.add(new Outcome(job, Optional.of(r.receipt()), Optional.empty()));
                } catch (VerityApiException e) {
                  outcomes.add(new Outcome(job, Optional.empty(), Optional.of(e)));
                }
                completed.incrementAndGet();
              }
              return null;
            }));
          }
          await("10 requests", () -> completed.get() >= 10);
          nodes.get(2).kill(); // a worker
          await("20 requests", () -> completed.get() >= 20);
          nodes.get(1).kill(); // the hub that first held the model
          await("30 requests", () -> completed.get() >= 30);
          for (int i : new int[] {2, 1}) {
            nodes.set(i, net.launch("node-" + i, dir.resolve("node-" + i), settings(genesis, seq, i)));
          }
          net.awaitReady(nodes.get(1));
          net.awaitReady(nodes.get(2));
          NetworkDemo.awaitLiveWorkers(seq.uri(), workers, List.of(manifest));
          await("50 requests", () -> completed.get() >= 50);
          stop.set(true);
          for (Future<?> f : clients) {
            f.get(120, TimeUnit.SECONDS);
          }
        }

        int succeeded = 0;
        for (Outcome o : outcomes) {
          if (o.receipt().isPresent()) {
            awaitPaid(l, o.job());
            succeeded++;
          } else {
            VerityApiException e = o.error().get();
            assertTrue(e.retryable() || e.status() == 409 && e.type().equals("job-used"),
                "a failure the client can act on: " + e.getMessage());
          }
        }
        Map<Hash, StateRecord.Job> jobs;
        Map<String, Long> after;
        for (int round = 0; ; round++) {
          Map<Hash, StateRecord.Job> first = jobs(l, outcomes);
          after = balances(l, parties);
          jobs = jobs(l, outcomes);
          if (first.equals(jobs)) {
            break;
          }
          assertTrue(round < 50, "the ledger kept changing");
        }
        long settled = 0;
        long charged = 0;
        long escrowedOpen = 0;
        for (StateRecord.Job j : jobs.values()) {
          assertTrue(j.charged() <= price, "charged at most once: " + j);
          assertTrue(j.status() == StateRecord.Job.Status.SETTLED ? j.receipts() == 1 : j.receipts() == 0,
              "one receipt per settled job: " + j);
          if (j.status() == StateRecord.Job.Status.SETTLED) {
            settled++;
            charged += j.charged();
          } else if (j.status() == StateRecord.Job.Status.OPEN) {
            escrowedOpen += j.escrow();
          }
        }
        assertTrue(succeeded >= 35, "most requests completed: " + succeeded + " of " + outcomes.size());
        assertEquals(settled * price, charged);
        assertEquals(-(charged + escrowedOpen), after.get("client") - before.get("client"));
        assertEquals(settled * UpCommand.ROYALTY, after.get("owner") - before.get("owner"));
        long delta = 0;
        for (String p : parties.keySet()) {
          delta += after.get(p) - before.get(p);
        }
        assertEquals(-escrowedOpen, delta, "every unit moved between these parties or is in escrow");
        System.out.println("chaos with processes: " + outcomes.size() + " requests, " + succeeded + " completed, "
            + settled + " jobs settled; balances " + before + " -> " + after);
      }
    }
  }

  static Map<String, String> settings(Path genesis, LocalNetwork.NodeProcess seq, int i) {
    Map<String, String> s = NetworkDemo.workerSettings(genesis, seq.uri());
    s.put("roles", i == 1 ? "worker,hub" : "worker,verifier");
    return s;
  }

  static NamedTensors inputs(ExampleModel model, int i) {
    ExampleModel.Sample s = model.samples().get(i % model.samples().size());
    return NamedTensors.of(model.inputName(), Tensor.ofFloats(s.shape(), s.values()));
  }

  static void await(String what, BooleanSupplier done) throws InterruptedException {
    long end = System.nanoTime() + DEADLINE.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("timed out waiting for " + what);
      }
      TimeUnit.MILLISECONDS.sleep(20); // polling interval of a bounded wait
    }
  }

  static Map<String, Long> balances(LedgerClient l, Map<String, Address> parties) throws Exception {
    Map<String, Long> b = new LinkedHashMap<>();
    for (Map.Entry<String, Address> e : parties.entrySet()) {
      b.put(e.getKey(), l.account(e.getValue(), true).account().balance());
    }
    return b;
  }

  static Map<Hash, StateRecord.Job> jobs(LedgerClient l, List<Outcome> outcomes) throws Exception {
    Map<Hash, StateRecord.Job> m = new LinkedHashMap<>();
    for (Outcome o : outcomes) {
      m.put(o.job(), l.job(o.job()).job());
    }
    return m;
  }

  static void awaitPaid(LedgerClient l, Hash job) throws Exception {
    long end = System.nanoTime() + DEADLINE.toNanos();
    StateRecord.Job j;
    while (!((j = l.job(job).job()).status() == StateRecord.Job.Status.SETTLED && j.receipts() == 1)) {
      if (System.nanoTime() - end > 0) {
        throw new AssertionError("job " + job + " of a completed request is " + j.status() + " with " + j.receipts()
            + " receipts");
      }
      TimeUnit.MILLISECONDS.sleep(50); // polling interval of a bounded wait
    }
  }
}
