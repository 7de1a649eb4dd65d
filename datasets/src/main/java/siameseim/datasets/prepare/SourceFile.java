package siameseim.datasets.prepare;

import java.io.Serializable;

/**
 * One input file: its split, class (WordNet id; null when it sits outside a class folder), key
 * (path below the split folder), full path and size.
 */
public record SourceFile(String split, String wnid, String key, String path, long bytes)
        implements PrepareTask.Item, Serializable {
    @Override
    public byte[] bytes(org.apache.hadoop.conf.Configuration conf) throws java.io.IOException {
        org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(path);
        try (java.io.InputStream in = p.getFileSystem(conf).open(p)) {
            return in.readAllBytes();
        }
    }
}
