package dev.verity.node;

import dev.verity.core.Cid;
import dev.verity.core.DecodingException;
import dev.verity.core.VerificationException;
import dev.verity.hub.BlobStore;
import dev.verity.hub.ModelRegistry;
import dev.verity.node.optimistic.ContentFetcher;
import dev.verity.node.optimistic.OptimisticAgent;
import dev.verity.protocol.ModelManifest;
import dev.verity.protocol.tensor.NamedTensors;
import java.io.IOException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Content that optimistic verification needs, by CID (manifests, model files, the inputs and outputs
 * of jobs): from this node's own stores first (registry, blob store, kept objects), else fetched
 * from other nodes, checked against the CID and kept, so a second use is local. The sequencer's
 * referee reads through it too: the sequencer fetches a job's content when the job's commitment
 * arrives ({@link OptimisticAgent}), so a ruling later finds it locally. Thread-safe.
 */
final class NodeContent implements OptimisticAgent.Content {
  private final ModelRegistry registry;
  private final BlobStore blobs;
  private final TensorBlobs kept;
  private final ContentFetcher fetcher;
  /** Where content not held here was last seen offered, for later reads without a source. */
  private final Map<Cid, List<URI>> hints = new ConcurrentHashMap<>();
  /** Where the ledger's referee reads content: empty for this node's own hub (it is the sequencer). */
  /** The sequencer node's endpoint; empty while unknown. Unused when this node is the sequencer. */
  private volatile Supplier<Optional<URI>> sequencerHub = Optional::empty;
  private volatile boolean sequencerIsSelf = true;

  NodeContent(ModelRegistry registry, BlobStore blobs, TensorBlobs kept, ContentFetcher fetcher) {
    this.registry = registry;
    this.blobs = blobs;
    this.kept = kept;
    this.fetcher = fetcher;
  }

  @Override
  public ModelManifest manifest(Cid cid, List<URI> from) throws IOException {
    Optional<ModelRegistry.VersionEntry> local = registry.entry(cid);
    if (local.isPresent()) {
      return local.get().manifest();
    }
    byte[] bytes = bytes(cid, from);
    try {
      ModelManifest m = ModelManifest.decode(bytes);
      m.verify();
      return m;
    } catch (DecodingException | VerificationException e) {
      throw new IOException("manifest " + cid + " does not verify: " + e.getMessage(), e);
    }
  }

  @Override
  public void model(Cid cid, List<URI> from) throws IOException {
    if (blobs.contains(cid)) {
      return;
    }
    Cid stored = blobs.put(fetch(cid, from, false));
    if (!stored.equals(cid)) {
      throw new IOException("model " + cid + " was stored as " + stored);
    }
  }

  @Override
  public NamedTensors tensors(Cid cid, List<URI> from) throws IOException {
    try {
      return NamedTensors.fromCanonicalBytes(bytes(cid, from));
    } catch (DecodingException e) {
      throw new IOException("tensors " + cid + " do not decode: " + e.getMessage(), e);
    }
  }

  /**
   * The bytes named {@code cid}: a kept object, a manifest of the registry or a stored blob, else
   * fetched from {@code from} (or where it was seen before) and kept. Checked against the CID.
   */
  byte[] bytes(Cid cid, List<URI> from) throws IOException {
    if (cid.codec() == Cid.Codec.DAG_CBOR) {
      Optional<byte[]> k = kept.read(cid);
      if (k.isPresent()) {
        return k.get();
      }
      Optional<ModelRegistry.VersionEntry> m = registry.entry(cid);
      if (m.isPresent()) {
        return m.get().manifest().encode();
      }
    }
    if (blobs.contains(cid)) {
      byte[] b = blobs.readAll(cid);
      if (ContentFetcher.matches(cid, b)) {
        return b;
      }
    }
    byte[] b = fetch(cid, from, cid.codec() == Cid.Codec.DAG_CBOR);
    if (cid.codec() == Cid.Codec.DAG_CBOR && Cid.dagCbor(b).equals(cid)) {
      kept.keep(b);
    } else {
      blobs.put(b);
    }
    return b;
  }

  /**
   * Sets where {@link #putOpening} puts openings: this node's own hub when it is the sequencer (its
   * referee reads that hub), else the hub of the sequencer node at {@code endpoint}.
   */
  void sequencerHub(boolean self, Supplier<Optional<URI>> endpoint) {
    this.sequencerIsSelf = self;
    this.sequencerHub = endpoint;
  }

  @Override
  public Cid putOpening(byte[] opening) throws IOException {
    if (sequencerIsSelf) {
      return blobs.put(opening);
    }
    URI hub = sequencerHub.get().orElseThrow(() -> new IOException(
        "the sequencer is not a live registered node with an endpoint; cannot put a step opening on its hub"));
    return fetcher.upload(hub, opening);
  }

  /** Remembers where {@code cid} can be fetched from. */
  void hint(Cid cid, List<URI> from) {
    if (!from.isEmpty()) {
      hints.put(cid, List.copyOf(from));
    }
  }

  private byte[] fetch(Cid cid, List<URI> from, boolean mayBeManifest) throws IOException {
    List<URI> sources = from.isEmpty() ? hints.getOrDefault(cid, List.of()) : from;
    hint(cid, sources);
    try {
      return fetcher.fetch(cid, sources);
    } catch (IOException notABlob) {
      if (!mayBeManifest) {
        throw notABlob;
      }
      try {
        return fetcher.manifest(cid, sources);
      } catch (IOException e) {
        notABlob.addSuppressed(e);
        throw notABlob;
      }
    }
  }
}
