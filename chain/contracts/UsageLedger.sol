// SPDX-License-Identifier: Apache-2.0
// aicon's usage ledger: a job owner opens a job with the addresses of its ranks' keys; each rank's
// signed usage record (EIP-712, the typed data of chain/usage.h) is accepted once and mints the
// signing miner reward tokens in proportion to the samples it trained.
pragma solidity ^0.8.19;

// The reward token: a plain ERC-20 that only its ledger mints.
contract UsageToken {
    string public constant name = "aicon usage reward";
    string public constant symbol = "AICU";
    uint8 public constant decimals = 18;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;
    address public immutable ledger;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor() {
        ledger = msg.sender;
    }

    function mint(address to, uint256 value) external {
        require(msg.sender == ledger, "UsageToken: only the ledger mints");
        totalSupply += value;
        balanceOf[to] += value;
        emit Transfer(address(0), to, value);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= value, "UsageToken: allowance too small");
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - value;
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private {
        require(to != address(0), "UsageToken: transfer to the zero address");
        require(balanceOf[from] >= value, "UsageToken: balance too small");
        balanceOf[from] -= value;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}

contract UsageLedger {
    // Field for field the record of chain/usage.h; flops is in MFLOP.
    struct UsageRecord {
        bytes32 jobId;
        uint32 rank;
        uint64 seq;
        uint64 prevSeq;
        address miner;
        uint64 steps;
        uint64 samples;
        uint64 wallMs;
        uint64 deviceMs;
        uint64 flops;
        uint64 bytesSent;
        uint64 bytesRecv;
        bytes32 modelHash;
        bytes32 datasetHash;
        bytes32 paramsHash;
        bytes32 detailsHash;
        bytes32 proofRoot; // the job's proof log (docs/verify.md): its Merkle root and segments, 0 for none
        uint64 proofSegments;
    }

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant RECORD_TYPEHASH = keccak256(
        "UsageRecord(bytes32 jobId,uint32 rank,uint64 seq,uint64 prevSeq,address miner,uint64 steps,uint64 samples,"
        "uint64 wallMs,uint64 deviceMs,uint64 flops,uint64 bytesSent,uint64 bytesRecv,"
        "bytes32 modelHash,bytes32 datasetHash,bytes32 paramsHash,bytes32 detailsHash,"
        "bytes32 proofRoot,uint64 proofSegments)");
    // Half the order of secp256k1: a signature with a larger s is the malleated twin of a low-s one.
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    UsageToken public immutable token;
    uint256 public immutable rewardPerSample; // token units (1e-18 AICU) per verified sample

    mapping(bytes32 => address) public jobOwner;
    mapping(bytes32 => address[]) private jobRanks_;
    mapping(bytes32 => bool) private accepted_; // keccak256(jobId, rank, seq)
    // What each accepted record signed of its proof log: what a payer or arbiter checks a log against.
    struct Proof {
        bytes32 root;
        uint64 segments;
    }
    mapping(bytes32 => Proof) private proofs_; // keccak256(jobId, rank, seq), as accepted_

    // Payment in escrow (openJobEscrow): each accepted record becomes a claim of samples x
    // weiPerSample, paid after windowBlocks unless the job's owner disputes it first; a disputed
    // claim waits for the arbiter, who pays it or rejects it (the wei stay with the job's owner).
    struct Escrow {
        uint256 balance;
        uint256 weiPerSample;
        address arbiter;
        uint64 windowBlocks;
    }
    enum ClaimState { None, Pending, Disputed, Paid, Rejected }
    struct Claim {
        uint256 amount;
        uint64 submittedAt; // block
        ClaimState state;
        address miner;
    }
    mapping(bytes32 => Escrow) public escrow;
    mapping(bytes32 => Claim) public claims; // keccak256(jobId, rank, seq), as accepted_

    event JobOpened(bytes32 indexed jobId, address indexed owner, address[] ranks);
    event RecordAccepted(bytes32 indexed jobId, uint32 indexed rank, uint64 seq, address indexed miner,
                         uint64 samples, uint64 deviceMs, uint256 reward);
    // Beside RecordAccepted for a record with a proof log: its root indexed, so a log's records are found by it.
    event ProofCommitted(bytes32 indexed jobId, uint32 indexed rank, bytes32 indexed proofRoot, uint64 seq,
                         uint64 segments);
    event ClaimPaid(bytes32 indexed jobId, uint32 indexed rank, uint64 seq, address indexed miner, uint256 amount);
    event ClaimDisputed(bytes32 indexed jobId, uint32 indexed rank, uint64 seq, uint64 segment);
    event ClaimSettled(bytes32 indexed jobId, uint32 indexed rank, uint64 seq, bool paid);

    constructor(uint256 rewardPerSample_) {
        token = new UsageToken();
        rewardPerSample = rewardPerSample_;
    }

    // Opens a job once; the caller becomes its owner. ranks[i] is the address of rank i's key.
    function openJob(bytes32 jobId, address[] calldata ranks) public {
        require(jobOwner[jobId] == address(0), "UsageLedger: job already open");
        require(ranks.length > 0, "UsageLedger: a job needs at least one rank");
        for (uint256 i = 0; i < ranks.length; i++)
            require(ranks[i] != address(0), "UsageLedger: rank address is zero");
        jobOwner[jobId] = msg.sender;
        jobRanks_[jobId] = ranks;
        emit JobOpened(jobId, msg.sender, ranks);
    }

    // Opens a job as openJob does, its payment (msg.value) in escrow: the payer is the owner.
    function openJobEscrow(bytes32 jobId, address[] calldata ranks, address arbiter, uint64 windowBlocks,
                           uint256 weiPerSample) external payable {
        require(msg.value > 0 && weiPerSample > 0, "UsageLedger: an escrow needs wei and a price per sample");
        require(arbiter != address(0), "UsageLedger: an escrow needs an arbiter");
        openJob(jobId, ranks);
        escrow[jobId] = Escrow(msg.value, weiPerSample, arbiter, windowBlocks);
    }

    // Pays an undisputed claim once its challenge window has passed; anyone may call it.
    function claim(bytes32 jobId, uint32 rank, uint64 seq) external {
        Escrow storage e = escrow[jobId];
        require(e.arbiter != address(0), "UsageLedger: job has no escrow");
        Claim storage c = claims[keccak256(abi.encode(jobId, rank, seq))];
        require(c.state != ClaimState.None, "UsageLedger: no such claim");
        require(c.state != ClaimState.Disputed, "UsageLedger: claim disputed, waiting for the arbiter");
        require(c.state == ClaimState.Pending, "UsageLedger: claim already settled");
        require(block.number >= c.submittedAt + e.windowBlocks, "UsageLedger: challenge window still open");
        _pay(jobId, rank, seq, c);
    }

    // The job's owner disputes a claim within its window, naming the segment its verification failed.
    function dispute(bytes32 jobId, uint32 rank, uint64 seq, uint64 segment) external {
        require(msg.sender == jobOwner[jobId], "UsageLedger: only the job's owner disputes");
        Claim storage c = claims[keccak256(abi.encode(jobId, rank, seq))];
        require(c.state == ClaimState.Pending, "UsageLedger: no pending claim");
        require(block.number < c.submittedAt + escrow[jobId].windowBlocks, "UsageLedger: challenge window closed");
        c.state = ClaimState.Disputed;
        emit ClaimDisputed(jobId, rank, seq, segment);
    }

    // The job's arbiter settles a disputed claim: paid, or rejected.
    function settle(bytes32 jobId, uint32 rank, uint64 seq, bool pay) external {
        require(msg.sender == escrow[jobId].arbiter, "UsageLedger: only the job's arbiter settles");
        Claim storage c = claims[keccak256(abi.encode(jobId, rank, seq))];
        require(c.state == ClaimState.Disputed, "UsageLedger: claim not disputed");
        if (pay) {
            _pay(jobId, rank, seq, c);
        } else {
            c.state = ClaimState.Rejected;
            uint256 amount = c.amount < escrow[jobId].balance ? c.amount : escrow[jobId].balance;
            escrow[jobId].balance -= amount;
            _send(jobOwner[jobId], amount);
        }
        emit ClaimSettled(jobId, rank, seq, pay);
    }

    function _pay(bytes32 jobId, uint32 rank, uint64 seq, Claim storage c) private {
        Escrow storage e = escrow[jobId];
        uint256 amount = c.amount < e.balance ? c.amount : e.balance;
        c.state = ClaimState.Paid;
        e.balance -= amount;
        _send(c.miner, amount);
        emit ClaimPaid(jobId, rank, seq, c.miner, amount);
    }

    // The state is written before the wei leave (a reentrant call finds the claim settled).
    function _send(address to, uint256 amount) private {
        (bool ok, ) = payable(to).call{value: amount}("");
        require(ok, "UsageLedger: the transfer failed");
    }

    function jobRanks(bytes32 jobId) external view returns (address[] memory) {
        return jobRanks_[jobId];
    }

    function accepted(bytes32 jobId, uint32 rank, uint64 seq) public view returns (bool) {
        return accepted_[keccak256(abi.encode(jobId, rank, seq))];
    }

    // The proof log an accepted record signed (root 0 and 0 segments: none, or no such record).
    function proofOf(bytes32 jobId, uint32 rank, uint64 seq) external view returns (bytes32 root, uint64 segments) {
        Proof storage p = proofs_[keccak256(abi.encode(jobId, rank, seq))];
        return (p.root, p.segments);
    }

    // Version "2": the record gained proofRoot and proofSegments.
    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("aicon UsageLedger"), keccak256("2"),
                                    block.chainid, address(this)));
    }

    // The EIP-712 digest a rank signs; a static struct encodes as its fields in order.
    function recordDigest(UsageRecord calldata r) public view returns (bytes32) {
        return keccak256(abi.encodePacked(hex"1901", domainSeparator(), keccak256(abi.encode(RECORD_TYPEHASH, r))));
    }

    // Accepts a record signed by its rank's key, once, and mints the miner its reward.
    function submit(UsageRecord calldata r, bytes calldata sig) external returns (uint256 reward) {
        require(jobOwner[r.jobId] != address(0), "UsageLedger: job not open");
        address[] storage ranks = jobRanks_[r.jobId];
        require(r.rank < ranks.length, "UsageLedger: rank out of range for this job");
        bytes32 id = keccak256(abi.encode(r.jobId, r.rank, r.seq));
        require(!accepted_[id], "UsageLedger: record already accepted (replay)");
        address signer = _recover(recordDigest(r), sig);
        require(signer == ranks[r.rank], "UsageLedger: signature is not from this rank's key");
        require(r.miner == signer, "UsageLedger: miner is not the signing key's address");
        accepted_[id] = true;
        proofs_[id] = Proof(r.proofRoot, r.proofSegments);
        if (escrow[r.jobId].arbiter != address(0))
            claims[id] = Claim(uint256(r.samples) * escrow[r.jobId].weiPerSample, uint64(block.number),
                               ClaimState.Pending, signer);
        reward = uint256(r.samples) * rewardPerSample;
        token.mint(signer, reward);
        emit RecordAccepted(r.jobId, r.rank, r.seq, signer, r.samples, r.deviceMs, reward);
        if (r.proofRoot != bytes32(0))
            emit ProofCommitted(r.jobId, r.rank, r.proofRoot, r.seq, r.proofSegments);
    }

    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address signer) {
        require(sig.length == 65, "UsageLedger: signature is not 65 bytes");
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        require(uint256(s) <= HALF_ORDER, "UsageLedger: high-s signature");
        require(v == 27 || v == 28, "UsageLedger: signature v is not 27 or 28");
        signer = ecrecover(digest, v, r, s);
        require(signer != address(0), "UsageLedger: signature recovers no key");
    }
}
