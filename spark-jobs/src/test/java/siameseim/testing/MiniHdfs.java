package siameseim.testing;

import java.io.File;
import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;

/** A real HDFS (NameNode + one DataNode) in the test JVM, on loopback. */
public final class MiniHdfs implements AutoCloseable {
    private final MiniDFSCluster cluster;

    public MiniHdfs(File baseDir) throws IOException {
        Configuration c = new Configuration();
        c.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, baseDir.getAbsolutePath());
        c.set("dfs.replication", "1");
        c.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        cluster = new MiniDFSCluster.Builder(c).numDataNodes(1).build();
        cluster.waitActive();
    }

    /** hdfs://127.0.0.1:port */
    public String uri() {
        return "hdfs://127.0.0.1:" + cluster.getNameNodePort();
    }

    public MiniDFSCluster cluster() {
        return cluster;
    }

    @Override
    public void close() {
        cluster.shutdown();
    }
}
