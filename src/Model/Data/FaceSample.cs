namespace ActorFace.Model.Data;

/// <summary>One decoded training face: 112x112x3 HWC RGB bytes and its class index.</summary>
public sealed record FaceSample(byte[] Rgb, int Label)
{
    public const int Size = 112;
    public const int Channels = 3;
    public const int ByteCount = Size * Size * Channels;
}
