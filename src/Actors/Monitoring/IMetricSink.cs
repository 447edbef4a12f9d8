namespace ActorFace.Actors.Monitoring;

/// <summary>Something besides MonitorState that wants every record a MonitorActor receives (TensorBoard, logs).</summary>
public interface IMetricSink
{
    /// <summary>Called on the MonitorActor's thread; must not block for long.</summary>
    void Observe(IMonitorMetric metric);
}
