package dev.verity.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.verity.core.Cid;
import dev.verity.core.crypto.Signer;
import dev.verity.hub.BlobStore;
import dev.verity.hub.FileBlobStore;
import dev.verity.ledger.Action;
import dev.verity.node.optimistic.ContentFetcher;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker puts a step opening too large for a transaction on the sequencer's hub over HTTP
 * ({@link ContentFetcher#upload}); the sequencer then holds it under the CID the worker names in
 * {@link Action.ProveStepByBlob}, in the blob store its referee reads.
 */
class OpeningUploadTest {

  @Test
  void anOpeningUploadedToTheSequencersHubIsHeldUnderItsCid(@TempDir Path dir) throws Exception {
    byte[] opening = new byte[3 * Action.ProveStep.MAX_OPENING_BYTES + 17];
    new SplittableRandom(5).nextBytes(opening);
    Signer worker = Signer.generate();
    try (VerityNode sequencer = NodeHarness.start(dir.resolve("sequencer"))) {
      ContentFetcher fetcher = new ContentFetcher(worker, 1 << 24);
      Cid cid = fetcher.upload(sequencer.uri(), opening);
      assertEquals(BlobStore.cidOf(opening), cid);
      assertEquals(cid, fetcher.upload(sequencer.uri(), opening), "uploading again names the same blob");
    }
    // where the sequencer's referee reads it (NodeContent: its blob store first)
    try (BlobStore store = FileBlobStore.open(dir.resolve("sequencer").resolve("blobs"))) {
      assertTrue(store.contains(BlobStore.cidOf(opening)));
      assertArrayEquals(opening, store.readAll(BlobStore.cidOf(opening)), "held intact under its CID");
    }
  }

  @Test
  void anUploadToANodeThatIsNotThereFailsWithAClearError() {
    ContentFetcher fetcher = new ContentFetcher(Signer.generate(), 1 << 20);
    assertThrows(IOException.class, () -> fetcher.upload(URI.create("http://127.0.0.1:1/"), new byte[100]));
  }
}
