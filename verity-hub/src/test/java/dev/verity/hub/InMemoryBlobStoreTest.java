package dev.verity.hub;

import dev.verity.core.Cid;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

class InMemoryBlobStoreTest extends BlobStoreContract {

  @Override
  Fixture fixture() {
    InMemoryBlobStore store = new InMemoryBlobStore();
    return new Fixture() {
      @Override
      public BlobStore store() {
        return store;
      }

      @Override
      public void corrupt(Cid block, byte[] bytes) {
        store.corrupt(block, bytes);
      }

      @Override
      public Set<String> contents() {
        Set<String> out = new TreeSet<>();
        for (Cid c : store.blockCids()) {
          out.add(c.toString());
        }
        for (Cid c : store.quarantined()) {
          out.add("quarantine/" + c);
        }
        return out;
      }

      @Override
      public List<Cid> quarantined() {
        return store.quarantined();
      }

      @Override
      public void close() {
        store.close();
      }
    };
  }
}
