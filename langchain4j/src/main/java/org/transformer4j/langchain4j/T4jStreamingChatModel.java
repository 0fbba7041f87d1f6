// T4jStreamingChatModel — langchain4j's StreamingChatModel over a T4jDecoder: each stable piece of the reply
// (whole characters, no possible start of a stop string) goes to onPartialResponse as its token is chosen.
package org.transformer4j.langchain4j;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ChatRequestParameters;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;

/**
 * A view of a {@link T4jDecoder}. It streams on the calling thread: {@code chat} returns once the reply is
 * complete (wrap it in an executor for a call that returns at once). Failures go to {@code onError}.
 */
public final class T4jStreamingChatModel implements StreamingChatModel {

    private final T4jDecoder decoder;

    T4jStreamingChatModel(T4jDecoder decoder) { this.decoder = decoder; }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        T4jDecoder.Reply r;
        try {
            r = decoder.reply(request, handler::onPartialResponse);
        } catch (RuntimeException e) {
            handler.onError(e);
            return;
        }
        handler.onCompleteResponse(T4jChatModel.response(decoder, r));
    }

    @Override
    public ChatRequestParameters defaultRequestParameters() { return T4jChatModel.parameters(decoder); }
}
