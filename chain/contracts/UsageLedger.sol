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
    }

    bytes32 private constant DOMAIN_TYPEHASH =
        keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    bytes32 private constant RECORD_TYPEHASH = keccak256(
        "UsageRecord(bytes32 jobId,uint32 rank,uint64 seq,uint64 prevSeq,address miner,uint64 steps,uint64 samples,"
        "uint64 wallMs,uint64 deviceMs,uint64 flops,uint64 bytesSent,uint64 bytesRecv,"
        "bytes32 modelHash,bytes32 datasetHash,bytes32 paramsHash,bytes32 detailsHash)");
    // Half the order of secp256k1: a signature with a larger s is the malleated twin of a low-s one.
    uint256 private constant HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    UsageToken public immutable token;
    uint256 public immutable rewardPerSample; // token units (1e-18 AICU) per verified sample

    mapping(bytes32 => address) public jobOwner;
    mapping(bytes32 => address[]) private jobRanks_;
    mapping(bytes32 => bool) private accepted_; // keccak256(jobId, rank, seq)

    event JobOpened(bytes32 indexed jobId, address indexed owner, address[] ranks);
    event RecordAccepted(bytes32 indexed jobId, uint32 indexed rank, uint64 seq, address indexed miner,
                         uint64 samples, uint64 deviceMs, uint256 reward);

    constructor(uint256 rewardPerSample_) {
        token = new UsageToken();
        rewardPerSample = rewardPerSample_;
    }

    // Opens a job once; the caller becomes its owner. ranks[i] is the address of rank i's key.
    function openJob(bytes32 jobId, address[] calldata ranks) external {
        require(jobOwner[jobId] == address(0), "UsageLedger: job already open");
        require(ranks.length > 0, "UsageLedger: a job needs at least one rank");
        for (uint256 i = 0; i < ranks.length; i++)
            require(ranks[i] != address(0), "UsageLedger: rank address is zero");
        jobOwner[jobId] = msg.sender;
        jobRanks_[jobId] = ranks;
        emit JobOpened(jobId, msg.sender, ranks);
    }

    function jobRanks(bytes32 jobId) external view returns (address[] memory) {
        return jobRanks_[jobId];
    }

    function accepted(bytes32 jobId, uint32 rank, uint64 seq) public view returns (bool) {
        return accepted_[keccak256(abi.encode(jobId, rank, seq))];
    }

    function domainSeparator() public view returns (bytes32) {
        return keccak256(abi.encode(DOMAIN_TYPEHASH, keccak256("aicon UsageLedger"), keccak256("1"),
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
        reward = uint256(r.samples) * rewardPerSample;
        token.mint(signer, reward);
        emit RecordAccepted(r.jobId, r.rank, r.seq, signer, r.samples, r.deviceMs, reward);
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
