package siameseim.datasets.loader;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;
import siameseim.datasets.decode.BadImageException;
import siameseim.datasets.decode.ImageDecoder;
import siameseim.datasets.image.PackedImages;
import siameseim.datasets.shards.Manifest;
import siameseim.datasets.shards.ShardInfo;
import siameseim.datasets.shards.ShardReader;

/** A whole split of a prepared dataset decoded into memory (small evaluation sets). */
public final class ShardImages {
    private ShardImages() {}

    public static PackedImages load(Configuration conf, Path root, Manifest m, String split, ImageDecoder decoder,
            int limit) throws IOException {
        PackedImages out = new PackedImages();
        for (ShardInfo s : m.split(split).shards()) {
            ShardReader.scan(conf, new Path(root, s.path()), r -> true, (row, rec) -> {
                try {
                    out.add(decoder.decode(rec.image(), Long.MAX_VALUE).image(), rec.label());
                } catch (BadImageException e) {
                    throw new IOException(s.path() + " row " + row + " (" + rec.key() + "): " + e.getMessage(), e);
                }
                return limit <= 0 || out.size() < limit;
            });
            if (limit > 0 && out.size() >= limit) {
                break;
            }
        }
        return out;
    }
}
