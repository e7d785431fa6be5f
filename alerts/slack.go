package alerts

import (
	"cmp"
	"context"
	"net/http"
	"time"

	"github.com/slack-go/slack"
)

// SlackSinkName is the name of both Slack sinks: switching from an incoming
// webhook to a bot token keeps the pending deliveries deliverable.
const SlackSinkName = "slack"

// DefaultHTTPTimeout bounds one request of the sinks built without a client.
const DefaultHTTPTimeout = 15 * time.Second

func httpClient(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: DefaultHTTPTimeout}
}

// SlackWebhook posts to a Slack incoming webhook (alerts.slack.webhook_url_env).
// An incoming webhook returns no message id, so there are no threads: it
// receives the pages (open, renotify) and the resolutions, not the updates.
type SlackWebhook struct {
	URL Secret
	// Client defaults to a client with DefaultHTTPTimeout.
	Client *http.Client
}

var _ Sink = (*SlackWebhook)(nil)

// Name returns SlackSinkName.
func (s *SlackWebhook) Name() string { return SlackSinkName }

// Wants pages and resolutions.
func (s *SlackWebhook) Wants(d Decision) bool { return d.Notifies() && d.Action != ActionUpdate }

// Send posts the notice's message with slack-go's webhook client.
func (s *SlackWebhook) Send(ctx context.Context, d Delivery) (Receipt, error) {
	n, err := DecodeNotice(d.Payload)
	if err != nil {
		return Receipt{}, &SendError{Sink: s.Name(), Permanent: true, Reason: "bad payload", Err: err}
	}
	msg := SlackMessage(n)
	if err := slack.PostWebhookCustomHTTPContext(ctx, s.URL.Reveal(), httpClient(s.Client), &msg); err != nil {
		return Receipt{}, classifySlack(s.Name(), err, urlSecrets(s.URL.Reveal())...)
	}
	return Receipt{Sink: s.Name()}, nil
}

// SlackBot posts with a bot token through chat.postMessage
// (alerts.slack.token_env and channel). The opening message starts a thread;
// updates go into it, and renotifications and the resolution go into it
// and are also broadcast to the channel.
type SlackBot struct {
	Token   Secret
	Channel string
	// APIURL is the Web API base URL, ending in "/" (default slack.APIURL;
	// tests point it at slacktest).
	APIURL string
	// Client defaults to a client with DefaultHTTPTimeout.
	Client *http.Client
}

var _ Sink = (*SlackBot)(nil)

// Name returns SlackSinkName.
func (s *SlackBot) Name() string { return SlackSinkName }

// Send posts the notice's message, in the incident's thread when it has one.
func (s *SlackBot) Send(ctx context.Context, d Delivery) (Receipt, error) {
	n, err := DecodeNotice(d.Payload)
	if err != nil {
		return Receipt{}, &SendError{Sink: s.Name(), Permanent: true, Reason: "bad payload", Err: err}
	}
	msg := SlackMessage(n)
	opts := []slack.MsgOption{
		slack.MsgOptionText(msg.Text, false), // already escaped
		slack.MsgOptionBlocks(msg.Blocks.BlockSet...),
		slack.MsgOptionDisableLinkUnfurl(),
		slack.MsgOptionDisableMediaUnfurl(),
	}
	channel, threaded := s.Channel, d.ThreadTS != ""
	if threaded {
		channel = cmp.Or(d.ThreadChannel, s.Channel)
		opts = append(opts, slack.MsgOptionTS(d.ThreadTS))
		if d.Action != ActionUpdate {
			opts = append(opts, slack.MsgOptionBroadcast())
		}
	}
	api := slack.New(s.Token.Reveal(), slack.OptionAPIURL(cmp.Or(s.APIURL, slack.APIURL)), slack.OptionHTTPClient(httpClient(s.Client)))
	gotChannel, ts, err := api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return Receipt{}, classifySlack(s.Name(), err, s.Token.Reveal())
	}
	return Receipt{Sink: s.Name(), Channel: gotChannel, TS: ts, StartsThread: !threaded}, nil
}
