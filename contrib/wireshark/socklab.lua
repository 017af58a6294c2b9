-- Wireshark dissector for the socklab protocols (docs/PROTOCOLS.md sections 0-7).
--
-- Load:  wireshark -X lua_script:contrib/wireshark/socklab.lua
--        tshark -X lua_script:contrib/wireshark/socklab.lua -r capture.pcapng
-- or copy this file into Wireshark's personal Lua plugins folder
-- (Help > About Wireshark > Folders), e.g. ~/.local/lib/wireshark/plugins/.
--
-- Default ports: echo 9090, quiz 31337, files 8020, ident 9091, auth 9092 (TCP),
-- chat 9093 (UDP). Framed echo (`socklab serve echo --framed`, section 7) runs on the
-- echo port, so it is not decoded by default: pick "SOCKLAB_FRAME" in Decode As, or
-- set Preferences > Protocols > SOCKLAB_FRAME > TCP port.
--
-- The line protocols are reassembled across TCP segments (a line split into several
-- segments is shown once, whole, in the segment that completes it). Files payloads
-- (PUT after READY, GET after DATA) are tracked per connection and shown as data with
-- their offset in the transfer. Auth passwords are shown as fields on purpose: the
-- protocol sends them in the clear, which is the lesson for TLS.

local MAX_LINE = 1024

local tcp_port_table = DissectorTable.get("tcp.port")
local udp_port_table = DissectorTable.get("udp.port")
local f_tcp_stream = Field.new("tcp.stream")

-- Helpers ------------------------------------------------------------------------------

local function direction_text(to_server)
    if to_server then return "client->server" end
    return "server->client"
end

local function words(s)
    local out = {}
    for w in s:gmatch("%S+") do out[#out + 1] = w end
    return out
end

-- Per-connection state that must survive between segments (files payloads, auth's
-- PASSWD). Wireshark dissects each frame again when a user clicks it, with the state of
-- the end of the capture, so the state at the start of each frame is saved on the first
-- pass and restored on later ones.
local function stream_state(store, pinfo, fresh)
    local stream = f_tcp_stream()
    local key = stream and stream.value or 0
    local st = store.streams[key]
    if not st then
        st = fresh()
        store.streams[key] = st
    end
    local fkey = pinfo.number
    if not pinfo.visited then
        if not store.frames[fkey] then
            local copy = {}
            for k, v in pairs(st) do copy[k] = v end
            store.frames[fkey] = copy
        end
    else
        local saved = store.frames[fkey]
        if saved then
            for k, v in pairs(saved) do st[k] = v end
        end
    end
    return st
end

local function new_store()
    return { streams = {}, frames = {} }
end

-- Walk the complete lines of a TCP segment; ask TCP for more data when the last line is
-- cut. `on_line(line, range, tree)` handles one line (without LF and CR); `on_bytes`
-- (optional) may take raw bytes before the next line and returns how many it took.
-- Returns the number of bytes consumed.
local function walk_lines(tvb, pinfo, tree, on_line, on_bytes)
    local len = tvb:len()
    local offset = 0
    while offset < len do
        if on_bytes then
            local took = on_bytes(tvb, offset, tree)
            if took > 0 then
                offset = offset + took
                goto continue
            end
        end
        do
            local rest = tvb:raw(offset, len - offset)
            local lf = rest:find("\n", 1, true)
            if not lf then
                if len - offset > MAX_LINE + 1 then
                    -- Longer than any valid line: show it, do not buffer for ever.
                    local r = tvb:range(offset, len - offset)
                    local t = tree:add(r, "Line too long (protocol error), " .. (len - offset) .. " bytes")
                    t:add_expert_info(PI_MALFORMED, PI_ERROR, "line over 1024 bytes")
                    return len
                end
                pinfo.desegment_offset = offset
                pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
                return len
            end
            local line = rest:sub(1, lf - 1)
            if line:sub(-1) == "\r" then line = line:sub(1, -2) end
            on_line(line, tvb:range(offset, lf), tree)
            offset = offset + lf
        end
        ::continue::
    end
    return offset
end

-- Builds a line protocol: a Proto with `line` and `direction` fields, registered on a
-- TCP port. `make(proto, fields)` adds its own fields and returns
-- `handle(line, range, subtree, to_server, pinfo, state)` plus optional `on_bytes`.
local function line_protocol(name, description, port, extra_fields, spec)
    local proto = Proto(name, description)
    local f = {
        line = ProtoField.string(name .. ".line", "Line"),
        direction = ProtoField.string(name .. ".direction", "Direction"),
    }
    for k, v in pairs(extra_fields) do f[k] = v end
    local list = {}
    for _, v in pairs(f) do list[#list + 1] = v end
    proto.fields = list
    local store = new_store()
    proto.init = function() store = new_store() end

    proto.dissector = function(tvb, pinfo, tree)
        local to_server = pinfo.dst_port == port
        local st = nil
        if spec.fresh then st = stream_state(store, pinfo, spec.fresh) end
        pinfo.cols.protocol = name:upper()
        local root = tree:add(proto, tvb:range(0, tvb:len()))
        root:add(f.direction, direction_text(to_server))
        local summary = {}
        local function on_line(line, range, t)
            local sub = t:add(f.line, range, line)
            summary[#summary + 1] = line
            spec.line(f, line, range, sub, to_server, st)
        end
        local on_bytes = nil
        if spec.bytes then
            on_bytes = function(b, off, t)
                return spec.bytes(f, b, off, t, to_server, st, summary)
            end
        end
        local consumed = walk_lines(tvb, pinfo, root, on_line, on_bytes)
        local arrow = to_server and "C: " or "S: "
        if #summary > 0 then
            pinfo.cols.info = arrow .. table.concat(summary, " | ")
        end
        return consumed
    end
    tcp_port_table:add(port, proto)
    return proto
end

-- Echo (section 1): binary-safe, shown as data; `quit`/`stop` lines marked -------------

local echo = Proto("socklab_echo", "socklab echo (TCP 9090)")
local echo_f = {
    direction = ProtoField.string("socklab_echo.direction", "Direction"),
    data = ProtoField.bytes("socklab_echo.data", "Data"),
    length = ProtoField.uint32("socklab_echo.length", "Length"),
    command = ProtoField.string("socklab_echo.command", "Command line (quit/stop)"),
}
echo.fields = { echo_f.direction, echo_f.data, echo_f.length, echo_f.command }
echo.dissector = function(tvb, pinfo, tree)
    local to_server = pinfo.dst_port == 9090
    pinfo.cols.protocol = "SOCKLAB_ECHO"
    local t = tree:add(echo, tvb:range(0, tvb:len()))
    t:add(echo_f.direction, direction_text(to_server))
    t:add(echo_f.data, tvb:range(0, tvb:len()))
    t:add(echo_f.length, tvb:len())
    if to_server then
        local s = tvb:raw(0, tvb:len())
        for cmd in ("\n" .. s):gmatch("\n(%a+)\r?\n") do
            if cmd == "quit" or cmd == "stop" then t:add(echo_f.command, cmd) end
        end
    end
    pinfo.cols.info = (to_server and "C: " or "S: ") .. tvb:len() .. " bytes"
    return tvb:len()
end
tcp_port_table:add(9090, echo)

-- Quiz (section 2) ----------------------------------------------------------------------

line_protocol("socklab_quiz", "socklab quiz (TCP 31337)", 31337, {
    number = ProtoField.uint32("socklab_quiz.number", "Problem number"),
    a = ProtoField.int64("socklab_quiz.a", "First operand"),
    op = ProtoField.string("socklab_quiz.op", "Operator"),
    b = ProtoField.int64("socklab_quiz.b", "Second operand"),
    answer = ProtoField.string("socklab_quiz.answer", "Answer"),
    count = ProtoField.uint32("socklab_quiz.count", "Problems to solve"),
    message = ProtoField.string("socklab_quiz.message", "Server message"),
}, {
    line = function(f, line, range, t, to_server)
        if to_server then
            t:add(f.answer, range, line)
            return
        end
        local k, a, op, b = line:match("^(%d+)%. (%-?%d+) ([%+%-%*]) (%-?%d+)$")
        if k then
            t:add(f.number, range, tonumber(k))
            t:add(f.a, range, Int64(tonumber(a)))
            t:add(f.op, range, op)
            t:add(f.b, range, Int64(tonumber(b)))
            return
        end
        local msg = line:match("^> (.*)$")
        if msg then
            t:add(f.message, range, msg)
            local n = msg:match("^Hi! You need to solve (%d+) arithmetic problems:$")
            if n then t:add(f.count, range, tonumber(n)) end
        end
    end,
})

-- Files (section 3): commands in lines, payloads counted -------------------------------

line_protocol("socklab_files", "socklab files (TCP 8020)", 8020, {
    command = ProtoField.string("socklab_files.command", "Command"),
    name = ProtoField.string("socklab_files.name", "File name"),
    size = ProtoField.uint64("socklab_files.size", "Size"),
    reply = ProtoField.string("socklab_files.reply", "Reply"),
    error = ProtoField.string("socklab_files.error", "Error code"),
    crc32 = ProtoField.string("socklab_files.crc32", "CRC-32"),
    data = ProtoField.bytes("socklab_files.data", "File data"),
    data_offset = ProtoField.uint64("socklab_files.data_offset", "Data offset in transfer"),
    data_len = ProtoField.uint32("socklab_files.data_len", "Data length in this segment"),
    data_total = ProtoField.uint64("socklab_files.data_total", "Transfer size"),
    transfer = ProtoField.string("socklab_files.transfer", "Transfer (upload/download)"),
}, {
    fresh = function()
        return { put_size = 0, up_left = 0, up_off = 0, up_total = 0,
                 down_left = 0, down_off = 0, down_total = 0 }
    end,
    line = function(f, line, range, t, to_server, st)
        local w = words(line)
        if to_server then
            local cmd = w[1] or ""
            t:add(f.command, range, cmd)
            if cmd == "PUT" then
                local size, name = line:match("^PUT (%d+) (.+)$")
                if size then
                    t:add(f.size, range, UInt64(tonumber(size)))
                    t:add(f.name, range, name)
                    st.put_size = tonumber(size)
                end
            elseif cmd == "GET" then
                local name = line:match("^GET (.+)$")
                if name then t:add(f.name, range, name) end
            end
            return
        end
        local reply = w[1] or ""
        t:add(f.reply, range, reply)
        if reply == "READY" then
            st.up_left, st.up_off, st.up_total = st.put_size, 0, st.put_size
        elseif reply == "DATA" and w[2] then
            local n = tonumber(w[2]) or 0
            t:add(f.size, range, UInt64(n))
            st.down_left, st.down_off, st.down_total = n, 0, n
        elseif reply == "EXISTS" and w[2] then
            t:add(f.size, range, UInt64(tonumber(w[2]) or 0))
        elseif reply == "ERR" and w[2] then
            t:add(f.error, range, w[2])
        elseif reply == "OK" and #w == 3 and w[3]:match("^%x%x%x%x%x%x%x%x$") then
            t:add(f.size, range, UInt64(tonumber(w[2]) or 0))
            t:add(f.crc32, range, w[3])
        elseif reply:match("^%d+$") and w[2] then
            -- A LIST entry: "<size> <name>".
            t:add(f.size, range, UInt64(tonumber(reply)))
            t:add(f.name, range, line:match("^%d+ (.+)$"))
        end
    end,
    bytes = function(f, tvb, off, tree, to_server, st, summary)
        local left, pos, total, kind
        if to_server then
            left, pos, total, kind = st.up_left, st.up_off, st.up_total, "upload"
        else
            left, pos, total, kind = st.down_left, st.down_off, st.down_total, "download"
        end
        if left <= 0 then return 0 end
        local n = math.min(left, tvb:len() - off)
        local r = tvb:range(off, n)
        local t = tree:add(r, string.format("File data (%s): %d bytes at offset %d of %d",
            kind, n, pos, total))
        t:add(f.transfer, kind)
        t:add(f.data_offset, UInt64(pos))
        t:add(f.data_len, n)
        t:add(f.data_total, UInt64(total))
        t:add(f.data, r)
        summary[#summary + 1] = string.format("[%s data %d bytes at %d]", kind, n, pos)
        if to_server then
            st.up_left, st.up_off = left - n, pos + n
        else
            st.down_left, st.down_off = left - n, pos + n
        end
        return n
    end,
})

-- Ident (section 4) ---------------------------------------------------------------------

line_protocol("socklab_ident", "socklab ident (TCP 9091)", 9091, {
    name = ProtoField.string("socklab_ident.name", "Name"),
    message = ProtoField.string("socklab_ident.message", "Server message"),
}, {
    line = function(f, line, range, t, to_server)
        if to_server then
            t:add(f.name, range, line)
            return
        end
        t:add(f.message, range, line)
        local name = line:match("^Hello again, (.*)!$") or line:match("^Nice to meet you, (.*)!$")
        if name then t:add(f.name, range, name) end
    end,
})

-- Auth (section 5): passwords travel in the clear ---------------------------------------

line_protocol("socklab_auth", "socklab auth (TCP 9092)", 9092, {
    command = ProtoField.string("socklab_auth.command", "Command"),
    user = ProtoField.string("socklab_auth.user", "User"),
    password = ProtoField.string("socklab_auth.password", "Password (in the clear!)"),
    new_password = ProtoField.string("socklab_auth.new_password", "New password (in the clear!)"),
    token = ProtoField.string("socklab_auth.token", "Session token"),
    reply = ProtoField.string("socklab_auth.reply", "Reply"),
    error = ProtoField.string("socklab_auth.error", "Error code"),
}, {
    fresh = function() return { new_password_next = false } end,
    line = function(f, line, range, t, to_server, st)
        if to_server then
            if st.new_password_next then
                st.new_password_next = false
                t:add(f.new_password, range, line)
                t:add_expert_info(PI_SECURITY, PI_WARN, "password sent in the clear")
                return
            end
            local cmd = line:match("^(%S+)") or ""
            t:add(f.command, range, cmd)
            if cmd == "REGISTER" or cmd == "LOGIN" then
                local user, pw = line:match("^%S+ (%S+) (.+)$")
                if user then
                    t:add(f.user, range, user)
                    t:add(f.password, range, pw)
                    t:add_expert_info(PI_SECURITY, PI_WARN, "password sent in the clear")
                end
            elseif cmd == "PASSWD" then
                local pw = line:match("^PASSWD (.+)$")
                if pw then t:add(f.password, range, pw) end
            elseif cmd == "TOKEN" then
                local tok = line:match("^TOKEN (%S+)$")
                if tok then t:add(f.token, range, tok) end
            end
            return
        end
        local w = words(line)
        t:add(f.reply, range, w[1] or "")
        if w[1] == "ERR" and w[2] then
            t:add(f.error, range, w[2])
        elseif w[1] == "OK" and w[2] then
            if w[2] == "new-password" then
                st.new_password_next = true
            elseif w[2]:match("^%x+$") and #w[2] == 32 then
                t:add(f.token, range, w[2])
            end
        end
    end,
})

-- Chat (section 6, UDP): one message per datagram --------------------------------------

local chat = Proto("socklab_chat", "socklab chat (UDP 9093)")
local chat_f = {
    direction = ProtoField.string("socklab_chat.direction", "Direction"),
    message = ProtoField.string("socklab_chat.message", "Message"),
    command = ProtoField.string("socklab_chat.command", "Command"),
    nick = ProtoField.string("socklab_chat.nick", "Nick"),
    text = ProtoField.string("socklab_chat.text", "Text"),
    reply = ProtoField.string("socklab_chat.reply", "Reply"),
    error = ProtoField.string("socklab_chat.error", "Error code"),
    members = ProtoField.uint32("socklab_chat.members", "Members online"),
}
chat.fields = { chat_f.direction, chat_f.message, chat_f.command, chat_f.nick,
    chat_f.text, chat_f.reply, chat_f.error, chat_f.members }
chat.dissector = function(tvb, pinfo, tree)
    local to_server = pinfo.dst_port == 9093
    local r = tvb:range(0, tvb:len())
    local msg = tvb:raw(0, tvb:len())
    pinfo.cols.protocol = "SOCKLAB_CHAT"
    pinfo.cols.info = (to_server and "C: " or "S: ") .. msg
    local t = tree:add(chat, r)
    t:add(chat_f.direction, direction_text(to_server))
    t:add(chat_f.message, r, msg)
    if to_server then
        local cmd, rest = msg:match("^(%S+) ?(.*)$")
        t:add(chat_f.command, r, cmd or "")
        if cmd == "JOIN" then t:add(chat_f.nick, r, rest)
        elseif cmd == "MSG" then t:add(chat_f.text, r, rest) end
        return tvb:len()
    end
    local w = words(msg)
    local nick, text = msg:match("^([%w_%-]+): (.*)$")
    if w[1] == "WELCOME" then
        t:add(chat_f.reply, r, "WELCOME")
        if w[2] then t:add(chat_f.nick, r, w[2]) end
        if w[3] then t:add(chat_f.members, r, tonumber(w[3]) or 0) end
    elseif w[1] == "ERR" or w[1] == "WHO" or w[1] == "PONG" then
        t:add(chat_f.reply, r, w[1])
        if w[1] == "ERR" and w[2] then t:add(chat_f.error, r, w[2]) end
    elseif w[1] == "*" and w[2] then
        t:add(chat_f.reply, r, "*")
        t:add(chat_f.nick, r, w[2])
    elseif nick then
        t:add(chat_f.reply, r, "relay")
        t:add(chat_f.nick, r, nick)
        t:add(chat_f.text, r, text)
    end
    return tvb:len()
end
udp_port_table:add(9093, chat)

-- Frames (section 7): 4-byte big-endian length + payload --------------------------------

local frame = Proto("socklab_frame", "socklab frame (length-prefixed, section 7)")
local frame_f = {
    length = ProtoField.uint32("socklab_frame.length", "Payload length"),
    payload = ProtoField.bytes("socklab_frame.payload", "Payload"),
    text = ProtoField.string("socklab_frame.text", "Payload as text"),
}
frame.fields = { frame_f.length, frame_f.payload, frame_f.text }
frame.prefs.port = Pref.uint("TCP port", 0,
    "Decode this TCP port as socklab frames (0: none; framed echo uses 9090)")
frame.prefs.max_frame = Pref.uint("Largest frame", 65536,
    "A longer length is shown as a protocol error (the server's --max-frame)")

frame.dissector = function(tvb, pinfo, tree)
    local len = tvb:len()
    local offset = 0
    local count = 0
    pinfo.cols.protocol = "SOCKLAB_FRAME"
    while offset < len do
        if len - offset < 4 then
            pinfo.desegment_offset = offset
            pinfo.desegment_len = DESEGMENT_ONE_MORE_SEGMENT
            break
        end
        local plen = tvb:range(offset, 4):uint()
        if plen > frame.prefs.max_frame then
            local t = tree:add(frame, tvb:range(offset, len - offset))
            t:add(frame_f.length, tvb:range(offset, 4))
            t:add_expert_info(PI_MALFORMED, PI_ERROR, "frame longer than the limit")
            return len
        end
        if len - offset < 4 + plen then
            pinfo.desegment_offset = offset
            pinfo.desegment_len = 4 + plen - (len - offset)
            break
        end
        local t = tree:add(frame, tvb:range(offset, 4 + plen))
        t:add(frame_f.length, tvb:range(offset, 4))
        if plen > 0 then
            local p = tvb:range(offset + 4, plen)
            t:add(frame_f.payload, p)
            t:add(frame_f.text, p, p:raw())
        end
        count = count + 1
        offset = offset + 4 + plen
    end
    if count > 0 then pinfo.cols.info = count .. " frame(s)" end
    return len
end

local frame_port = 0
local function apply_frame_port()
    if frame_port ~= 0 then
        tcp_port_table:remove(frame_port, frame)
        if frame_port == 9090 then tcp_port_table:add(9090, echo) end
    end
    frame_port = frame.prefs.port
    if frame_port ~= 0 then tcp_port_table:add(frame_port, frame) end
end
-- tshark's `-o socklab_frame.port:N` does not call prefs_changed; init runs before
-- every file is read, after the preferences are set.
frame.prefs_changed = apply_frame_port
frame.init = apply_frame_port
tcp_port_table:add_for_decode_as(frame)
apply_frame_port()
