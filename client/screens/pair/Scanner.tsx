import { createSignal, onCleanup, onMount, Show } from 'solid-js';
import { Button } from '../../ui/Button.tsx';

/** How often a camera frame is decoded: fast enough to feel instant, light on a phone's battery. */
const FRAME_MS = 150;
/** Frames are scaled down to at most this width before decoding. */
const MAX_WIDTH = 640;

function cameraProblem(err: unknown): string {
  const name = err instanceof Error ? err.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Camera access was blocked. Allow the camera for this site in your browser’s settings and try again, or type the code instead.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') {
    return 'No camera was found on this device. Type the code instead.';
  }
  if (name === 'NotReadableError' || name === 'AbortError') return 'The camera is busy (another app may be using it). Close that app and try again.';
  return `The camera could not be started${err instanceof Error && err.message ? ` (${err.message})` : ''}. Type the code instead.`;
}

/**
 * The in-app QR scanner: the camera (getUserMedia, back camera preferred) into a canvas, each
 * frame decoded in the page with jsQR. Only a Relay pairing link is accepted.
 */
export function Scanner(props: { onLink: (link: string) => void; onCancel: () => void }) {
  let video!: HTMLVideoElement;
  const [problem, setProblem] = createSignal('');
  const [hint, setHint] = createSignal('Starting the camera…');
  let stream: MediaStream | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
    stream?.getTracks().forEach((t) => void t.stop());
    stream = undefined;
  };
  onCleanup(stop);

  onMount(async () => {
    if (!navigator.mediaDevices?.getUserMedia) {
      setProblem('This browser does not offer the camera on this page. Type the code instead.');
      return;
    }
    try {
      const [media, decoder] = await Promise.all([navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: 'environment' } }, audio: false }), import('jsqr')]);
      if (stopped) return media.getTracks().forEach((t) => void t.stop());
      stream = media;
      video.srcObject = media;
      await video.play();
      setHint('Point the camera at the QR code on your computer.');
      const jsQR = decoder.default;
      const canvas = document.createElement('canvas');
      const context = canvas.getContext('2d', { willReadFrequently: true })!;
      const tick = () => {
        if (stopped) return;
        if (video.videoWidth > 0) {
          const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
          canvas.width = Math.round(video.videoWidth * scale);
          canvas.height = Math.round(video.videoHeight * scale);
          context.drawImage(video, 0, 0, canvas.width, canvas.height);
          const image = context.getImageData(0, 0, canvas.width, canvas.height);
          const found = jsQR(image.data, image.width, image.height, { inversionAttempts: 'attemptBoth' });
          if (found?.data.includes('pair=')) {
            stop();
            props.onLink(found.data);
            return;
          }
          if (found) setHint('That QR code is not a Relay pairing code. Scan the one your computer shows.');
        }
        timer = setTimeout(tick, FRAME_MS);
      };
      tick();
    } catch (err) {
      stop();
      setProblem(cameraProblem(err));
    }
  });

  return (
    <div class="scanner">
      <Show
        when={!problem()}
        fallback={
          <p class="note note--error" role="alert">
            {problem()}
          </p>
        }
      >
        <video ref={video} class="scanner__video" muted playsinline aria-label="Camera preview" />
        <p class="hint" role="status">
          {hint()}
        </p>
      </Show>
      <Button
        variant="secondary"
        onClick={() => {
          stop();
          props.onCancel();
        }}
      >
        {problem() ? 'Back' : 'Cancel scanning'}
      </Button>
    </div>
  );
}
